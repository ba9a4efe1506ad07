// Command kube-proxy is the upstream kube-proxy (Kubernetes), built from Go modules for the test bed's cluster mode (no
// Debian or npm package ships it). See scripts/build-testbed.sh cluster.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-proxy/app"
)

func main() {
	os.Exit(cli.Run(app.NewProxyCommand()))
}
