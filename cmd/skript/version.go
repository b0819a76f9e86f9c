package main

import (
	"runtime/debug"
)

// version and commit may be set at build time with
// -ldflags "-X main.version=1.2.0 -X main.commit=abc1234", for builds made
// without the VCS information Go records (a source tarball, -buildvcs=false).
var (
	version = "dev"
	commit  = ""
)

// versionText is what --version prints: the version, then the commit the
// binary was built from and whether the tree had uncommitted changes, so a
// bug report names the exact code.
func versionText() string {
	info, _ := debug.ReadBuildInfo()
	return formatVersion(version, commit, info)
}

func formatVersion(version, commit string, info *debug.BuildInfo) string {
	rev, modified, when := commit, false, ""
	if info != nil {
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				if rev == "" && len(s.Value) >= 12 {
					rev = s.Value[:12]
				}
			case "vcs.modified":
				modified = s.Value == "true"
			case "vcs.time":
				when = s.Value
			}
		}
	}
	if rev == "" {
		return version + " (commit unknown)"
	}
	out := version + " (commit " + rev
	if modified {
		out += ", modified"
	}
	if when != "" {
		out += ", " + when
	}
	if info != nil && info.GoVersion != "" {
		out += ", " + info.GoVersion
	}
	return out + ")"
}
