// The experiment database (issue 3).
