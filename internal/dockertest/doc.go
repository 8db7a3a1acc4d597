// Package dockertest checks the repository's Docker files without Docker:
// docker-compose.yml is parsed with a YAML parser (anchors and merge keys
// resolved as Compose does) and checked for its services, images, builds,
// ports, environment, volumes and dependencies, with every setting run
// through the real docker/entrypoint.sh to see the --override arguments a
// broker would get, each of which must be a property kbroker accepts; the
// Dockerfile is parsed for its stages, COPY sources and entrypoint.
//
// It has no production code: only tests. It imports internal/testcluster
// for the properties and listener parsers.
package dockertest
