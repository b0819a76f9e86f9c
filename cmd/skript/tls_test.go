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
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skript-dev/skript/store/redis/redistest"
)

// writeCerts makes a throwaway CA and a server certificate for 127.0.0.1.
func writeCerts(t *testing.T, dir string) (ca, cert, key string) {
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
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	srvTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caCert, &srvKey.PublicKey, caKey)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(srvKey)
	require.NoError(t, err)
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
		return p
	}
	return write("ca.pem", "CERTIFICATE", caDER), write("server.pem", "CERTIFICATE", srvDER), write("server.key", "EC PRIVATE KEY", keyDER)
}

// rediss:// with a user and password in the URL: a Redis that speaks only
// TLS and requires an ACL user runs a workflow end to end.
func TestRunOverTLSWithUserAndPassword(t *testing.T) {
	dir := t.TempDir()
	ca, cert, key := writeCerts(t, dir)
	port := redistest.FreePort(t)
	// Started here rather than by redistest: that helper checks readiness
	// with a plain-text PING, which this server refuses.
	srv := exec.Command(redistest.Binary(t, "redis-server"), "--port", "0", "--tls-port", strconv.Itoa(port),
		"--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir,
		"--tls-cert-file", cert, "--tls-key-file", key, "--tls-ca-cert-file", ca, "--tls-auth-clients", "no",
		"--user", "default", "off", "--user", "runner", "on", ">s3cret", "~*", "&*", "+@all")
	require.NoError(t, srv.Start())
	t.Cleanup(func() { _ = srv.Process.Kill(); _ = srv.Wait() })
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			c.Close()
			break
		}
		require.Less(t, i, 200, "redis-server did not listen on its TLS port")
		time.Sleep(25 * time.Millisecond)
	}
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
}
