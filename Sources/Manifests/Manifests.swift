// Manifests module
