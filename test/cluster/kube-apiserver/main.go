// Command kube-apiserver is the upstream API server, built from Go modules for okg-sq's test bed
// (no Debian or npm package ships it). See scripts/build-testbed.sh.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
