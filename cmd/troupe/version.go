package main

import (
	"context"
	"fmt"
	"runtime/debug"
)

// versionInfo is what version prints, from the binary's build information.
type versionInfo struct {
	version, goVersion, revision, time string
	modified                           bool
}

// buildVersion reads the module version (a release tag when installed with
// go install ...@vX.Y.Z, "(devel)" when built in a checkout) and the VCS
// stamp go build adds in a checkout.
func buildVersion() versionInfo {
	v := versionInfo{version: "(unknown)"}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	v.version, v.goVersion = bi.Main.Version, bi.GoVersion
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.revision = s.Value
		case "vcs.time":
			v.time = s.Value
		case "vcs.modified":
			v.modified = s.Value == "true"
		}
	}
	return v
}

func (c *cli) version(_ context.Context, args []string) int {
	fs := c.newFlags("troupe version", "", "Print troupe's module version, the Go version it was built with and, when built\nfrom a checkout with VCS stamping, the commit.")
	if _, code := c.parse(fs, args, 0, 0); code >= 0 {
		return code
	}
	v := buildVersion()
	fmt.Fprintf(c.stdout, "troupe %s\ngo %s\n", v.version, v.goVersion)
	if v.revision != "" {
		dirty := ""
		if v.modified {
			dirty = " (modified)"
		}
		fmt.Fprintf(c.stdout, "commit %s%s %s\n", v.revision, dirty, v.time)
	}
	return exitOK
}
