// Package infra_test checks the deployment files, which no Docker engine
// runs in CI: the Dockerfile (its stages and arguments), both compose files
// (loaded with the compose specification's own Go library), infra/nginx.conf
// (`nginx -t` and its key directives) and infra/.env.example.
//
// Each check names the broken line's intent, so that a change which breaks
// the deployment fails `make test` instead of the next deploy.
package infra_test
