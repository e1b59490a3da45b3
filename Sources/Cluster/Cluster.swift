// Wire protocol, coordinator and worker (issue 3).
