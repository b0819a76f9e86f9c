package action

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHTTPDenyPrivateRefusesLoopback(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("reached"))
	}))
	defer srv.Close()
	port := srv.URL[strings.LastIndexByte(srv.URL, ':')+1:]

	out, err := invoke(t, context.Background(), HTTP(HTTPOptions{}), map[string]any{"url": srv.URL})
	require.NoError(t, err, "without the policy, loopback is reachable")
	require.Equal(t, "reached", out.(map[string]any)["body"])

	deny := HTTP(HTTPOptions{DenyPrivate: true})
	for _, url := range []string{srv.URL, "http://localhost:" + port, "http://[::ffff:127.0.0.1]:" + port} {
		_, err = invoke(t, context.Background(), deny, map[string]any{"url": url + "/x"})
		require.Error(t, err, url)
		require.Contains(t, err.Error(), "loopback address, which the http egress policy denies (--http-deny-private)", url)
		var ee *EgressError
		require.True(t, errors.As(err, &ee), "%s: %v", url, err)
	}

	// A redirect to loopback is dialed through the same policy.
	redirect := httptest.NewServer(http.RedirectHandler(srv.URL, http.StatusFound))
	defer redirect.Close()
	_, err = invoke(t, context.Background(), HTTPPost(HTTPOptions{DenyPrivate: true}), map[string]any{"url": redirect.URL})
	require.ErrorContains(t, err, "egress policy denies")
}

func TestPrivateKind(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1":       "loopback",
		"127.8.9.10":      "loopback",
		"::1":             "loopback",
		"10.1.2.3":        "private",
		"172.16.0.1":      "private",
		"192.168.1.1":     "private",
		"fd12::1":         "private",
		"::ffff:10.0.0.1": "private",
		"169.254.169.254": "link-local",
		"fe80::1":         "link-local",
		"0.0.0.0":         "unspecified",
		"0.1.2.3":         "unspecified",
		"::":              "unspecified",
		"224.0.0.1":       "multicast",
		"ff02::1":         "multicast",
		"100.100.1.1":     "shared (CGNAT)",
		"64:ff9b::a00:1":  "NAT64-translated",
		"8.8.8.8":         "",
		"2606:4700::1111": "",
		"172.32.0.1":      "",
	} {
		require.Equal(t, want, privateKind(netip.MustParseAddr(addr)), addr)
	}
}
