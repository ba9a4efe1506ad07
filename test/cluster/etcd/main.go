// Command etcd is the upstream etcd server, built from Go modules for okg-sq's test bed.
// See scripts/build-testbed.sh.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
