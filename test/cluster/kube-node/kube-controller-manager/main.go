// Command kube-controller-manager is the upstream kube-controller-manager (Kubernetes), built from Go modules for the test bed's cluster mode (no
// Debian or npm package ships it). See scripts/build-testbed.sh cluster.
package main

import (
	"os"
	_ "time/tzdata" // CronJob time zones, as upstream

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

func main() {
	os.Exit(cli.Run(app.NewControllerManagerCommand()))
}
