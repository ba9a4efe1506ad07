// Command coredns is CoreDNS with only the plugins the test bed's cluster DNS uses (errors, log, cache,
// kubernetes: it answers for cluster.local, nothing else), built from Go modules. See
// scripts/build-testbed.sh cluster.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/log"
)

// The directives in CoreDNS's plugin.cfg order: the order in which a query passes through them.
func init() {
	dnsserver.Directives = []string{"errors", "log", "cache", "kubernetes"}
}

func main() {
	coremain.Run()
}
