package main

import (
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFormatVersion(t *testing.T) {
	info := &debug.BuildInfo{GoVersion: "go1.25.0", Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123"},
		{Key: "vcs.modified", Value: "true"},
		{Key: "vcs.time", Value: "2026-12-01T10:00:00Z"},
	}}
	require.Equal(t, "dev (commit 0123456789ab, modified, 2026-12-01T10:00:00Z, go1.25.0)", formatVersion("dev", "", info))
	// -ldflags -X main.commit is the fallback when Go recorded no VCS data.
	require.Equal(t, "1.2.0 (commit abc1234)", formatVersion("1.2.0", "abc1234", nil))
	require.Equal(t, "dev (commit unknown)", formatVersion("dev", "", &debug.BuildInfo{}))
}
