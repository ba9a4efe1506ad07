// Command kubelet is the upstream kubelet (Kubernetes), built from Go modules for the test bed's cluster mode (no
// Debian or npm package ships it). See scripts/build-testbed.sh cluster.
package main

import (
	"context"
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kubelet/app"
)

func main() {
	os.Exit(cli.Run(app.NewKubeletCommand(context.Background())))
}
