package main_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store/redis/redistest"
)

// certs are the files of a throwaway CA: its certificate, a server
// certificate for 127.0.0.1 and a client certificate, each with its key.
type certs struct {
	ca, cert, key, clientCert, clientKey string
}

// writeCerts makes a throwaway CA and a server certificate for 127.0.0.1.
func writeCerts(t *testing.T, dir string) (ca, cert, key string) {
	c := writeCertSet(t, dir)
	return c.ca, c.cert, c.key
}

// writeCertSet makes a throwaway CA, a server certificate for 127.0.0.1 and
// a client certificate signed by the CA.
func writeCertSet(t *testing.T, dir string) certs {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "skript test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	caCert, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
		return p
	}
	leaf := func(serial int64, name string, tmpl *x509.Certificate) (cert, key string) {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		tmpl.SerialNumber = big.NewInt(serial)
		tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &k.PublicKey, caKey)
		require.NoError(t, err)
		keyDER, err := x509.MarshalECPrivateKey(k)
		require.NoError(t, err)
		return write(name+".pem", "CERTIFICATE", der), write(name+".key", "EC PRIVATE KEY", keyDER)
	}
	c := certs{ca: write("ca.pem", "CERTIFICATE", caDER)}
	c.cert, c.key = leaf(2, "server", &x509.Certificate{Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	c.clientCert, c.clientKey = leaf(3, "client", &x509.Certificate{Subject: pkix.Name{CommonName: "skript worker"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	return c
}

// startTLSRedis starts a redis-server that speaks only TLS, and waits until
// it listens.
func startTLSRedis(t *testing.T, dir string, c certs, extra ...string) int {
	t.Helper()
	port := redistest.FreePort(t)
	// Started here rather than by redistest: that helper checks readiness
	// with a plain-text PING, which this server refuses.
	srv := exec.Command(redistest.Binary(t, "redis-server"), append([]string{"--port", "0", "--tls-port", strconv.Itoa(port),
		"--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir,
		"--tls-cert-file", c.cert, "--tls-key-file", c.key, "--tls-ca-cert-file", c.ca}, extra...)...)
	require.NoError(t, srv.Start())
	t.Cleanup(func() { _ = srv.Process.Kill(); _ = srv.Wait() })
	for i := 0; ; i++ {
		conn, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			conn.Close()
			break
		}
		require.Less(t, i, 200, "redis-server did not listen on its TLS port")
		time.Sleep(25 * time.Millisecond)
	}
	return port
}

// rediss:// with a user and password in the URL: a Redis that speaks only
// TLS and requires an ACL user runs a workflow end to end.
func TestRunOverTLSWithUserAndPassword(t *testing.T) {
	dir := t.TempDir()
	ca, cert, key := writeCerts(t, dir)
	port := startTLSRedis(t, dir, certs{ca: ca, cert: cert, key: key}, "--tls-auth-clients", "no",
		"--user", "default", "off", "--user", "runner", "on", ">s3cret", "~*", "&*", "+@all")
	flow := writeFlow(t, "name: tls\nnodes:\n  - {id: a, kind: Action, action: set, params: {ok: true}}\n")
	url := "rediss://runner:s3cret@127.0.0.1:" + strconv.Itoa(port) + "/0"
	cmd := exec.Command(bin, "run", flow, "--store", url, "--output", "json")
	// Go reads extra trusted roots from SSL_CERT_FILE.
	cmd.Env = append(os.Environ(), "SKRIPT_STORE=", "SSL_CERT_FILE="+ca)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), `"succeeded"`)

	cmd = exec.Command(bin, "run", flow, "--store", "rediss://runner:wrong@127.0.0.1:"+strconv.Itoa(port)+"/0")
	cmd.Env = append(os.Environ(), "SKRIPT_STORE=", "SSL_CERT_FILE="+ca)
	out, err = cmd.CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), "--store")
	require.NotContains(t, string(out), "wrong")
}

// A Redis that requires client certificates (--tls-auth-clients yes) and
// whose certificate a private CA signed: the URL's ca, cert and key reach
// it, with no SSL_CERT_FILE; without the client certificate, or trusting
// only the system's CAs, it is refused with exit code 2.
func TestRunOverTLSWithClientCertificate(t *testing.T) {
	dir := t.TempDir()
	c := writeCertSet(t, dir)
	port := startTLSRedis(t, dir, c, "--tls-auth-clients", "yes")
	flow := writeFlow(t, "name: tls\nnodes:\n  - {id: a, kind: Action, action: set, params: {ok: true}}\n")
	base := "rediss://127.0.0.1:" + strconv.Itoa(port) + "/0"
	q := neturl.Values{"ca": {c.ca}, "cert": {c.clientCert}, "key": {c.clientKey}}
	r := skript(t, "run", flow, "--store", base+"?"+q.Encode(), "--output", "json")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, `"succeeded"`)

	q.Del("cert")
	q.Del("key")
	r = skript(t, "run", flow, "--store", base+"?"+q.Encode())
	require.Equal(t, 2, r.code, r.stderr)
	require.Contains(t, r.stderr, "--store")

	r = skript(t, "run", flow, "--store", base+"?cert="+neturl.QueryEscape(c.clientCert)+"&key="+neturl.QueryEscape(c.clientKey))
	require.Equal(t, 2, r.code, r.stderr)
	require.Contains(t, r.stderr, "certificate")

	r = skript(t, "run", flow, "--store", base+"?ca="+neturl.QueryEscape(filepath.Join(dir, "missing.pem")))
	require.Equal(t, 2, r.code, r.stderr)
	require.Contains(t, r.stderr, "missing.pem")
}
