package redis

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/redis/rueidis"
)

// ErrUnreachable marks an Open that failed because Redis could not be
// reached or was not ready yet (connection refused, a Cluster still forming,
// a server loading its data). Trying again later may work; every other
// error of Open (a bad URL, a refused password, a wrong partition count, an
// evicting maxmemory-policy) needs a change first.
var ErrUnreachable = errors.New("redis unreachable")

type unreachable struct{ err error }

func (u unreachable) Error() string   { return u.err.Error() }
func (u unreachable) Unwrap() []error { return []error{u.err, ErrUnreachable} }

// queryOptions are the URL query options Open takes: those of rueidis that
// make sense for the driver, and Skript's own. Any other is refused, since
// a misspelt option would otherwise be silently ignored.
var queryOptions = map[string]bool{
	"db": true, "dial_timeout": true, "write_timeout": true, "addr": true, "skip_verify": true,
	"protocol": true, "client_name": true, "max_retries": true,
	"ca": true, "cert": true, "key": true, "allow_eviction": true, "journal": true,
}

// urlOptions are the query options of a store URL that Skript reads itself.
type urlOptions struct {
	ca, cert, key string
	allowEviction bool
	journalOff    bool
}

// RedactURL hides the password of a store URL, for messages and logs. It
// works on URLs that do not parse too, since those are the ones that end
// up in error messages.
func RedactURL(u string) string {
	scheme := strings.Index(u, "://")
	if scheme < 0 {
		// Without a scheme there is no userinfo to find reliably; say as
		// little as possible.
		if strings.Contains(u, "@") {
			return "***" + u[strings.LastIndex(u, "@"):]
		}
		return u
	}
	rest := u[scheme+3:]
	// The userinfo ends at the last @ before the path: a password may hold
	// an @ of its own, but not an unescaped /.
	end := len(rest)
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		end = i
	}
	at := strings.LastIndex(rest[:end], "@")
	if at < 0 {
		// A password holding a / (or ?, #) cuts the authority early; an @
		// further on still marks credentials.
		at = strings.LastIndex(rest, "@")
		if at < 0 {
			return u
		}
	}
	user := rest[:at]
	if name, _, ok := strings.Cut(user, ":"); ok {
		return u[:scheme+3] + name + ":***" + rest[at:]
	}
	return u[:scheme+3] + "***" + rest[at:]
}

// redactErr removes the password of raw from err's message: some errors
// of url.Parse and of the dialer quote the URL they were given.
func redactErr(err error, raw string) error {
	msg := err.Error()
	clean := strings.ReplaceAll(msg, raw, RedactURL(raw))
	if pw := password(raw); pw != "" {
		clean = strings.ReplaceAll(clean, pw, "***")
	}
	if clean == msg {
		return err
	}
	return redacted{msg: clean, err: err}
}

type redacted struct {
	msg string
	err error
}

func (r redacted) Error() string { return r.msg }

// Unwrap keeps errors.Is working on the original (ErrUnreachable, context
// errors); its message is never printed by this package.
func (r redacted) Unwrap() error { return r.err }

// password returns the password of raw as written and decoded, "" if none.
func password(raw string) string {
	r := RedactURL(raw)
	if r == raw {
		return ""
	}
	// RedactURL replaced exactly the password (or the whole userinfo):
	// what it took out is the secret.
	i := strings.Index(r, "***")
	secret := raw[i : len(raw)-(len(r)-i-3)]
	if s, err := url.PathUnescape(secret); err == nil && s != secret {
		return s
	}
	return secret
}

var quoted = regexp.MustCompile(`"[^"]*"`)

// hideQuotedUserinfo hides the parts of raw's user and password that an
// error of url.Parse quotes: a password holding a / makes it take the rest
// of the password for a port, and it quotes that.
func hideQuotedUserinfo(err error, raw string) error {
	_, rest, ok := strings.Cut(raw, "://")
	at := strings.LastIndex(rest, "@")
	if !ok || at < 0 {
		return err
	}
	userinfo := rest[:at]
	msg := quoted.ReplaceAllStringFunc(err.Error(), func(q string) string {
		part := strings.TrimLeft(strings.Trim(q, `"`), ":")
		if part != "" && strings.Contains(userinfo, part) {
			return `"***"`
		}
		return q
	})
	if msg == err.Error() {
		return err
	}
	return redacted{msg: msg, err: err}
}

// parseURL reads a store URL into the client options, refusing what would
// be silently ignored. Its errors never hold the password.
func parseURL(raw string) (rueidis.ClientOption, urlOptions, error) {
	var uo urlOptions
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the url.Error quotes the whole URL
		}
		err = hideQuotedUserinfo(err, raw)
		return rueidis.ClientOption{}, uo, fmt.Errorf("bad URL %s: %w", RedactURL(raw), redactErr(err, raw))
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return rueidis.ClientOption{}, uo, fmt.Errorf("bad URL %s: want redis:// or rediss://", RedactURL(raw))
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return rueidis.ClientOption{}, uo, fmt.Errorf("bad URL %s: port %s is not between 1 and 65535", RedactURL(raw), p)
		}
	}
	q := u.Query()
	for k := range q {
		if !queryOptions[k] {
			return rueidis.ClientOption{}, uo, fmt.Errorf("bad URL %s: unknown option %q (known: addr, allow_eviction, ca, cert, client_name, db, dial_timeout, journal, key, max_retries, protocol, skip_verify, write_timeout)",
				RedactURL(raw), k)
		}
	}
	uo.ca, uo.cert, uo.key = q.Get("ca"), q.Get("cert"), q.Get("key")
	if v := q.Get("allow_eviction"); q.Has("allow_eviction") {
		b, err := strconv.ParseBool(v)
		if v == "" {
			b, err = true, nil
		}
		if err != nil {
			return rueidis.ClientOption{}, uo, fmt.Errorf("bad URL %s: allow_eviction=%q: want true or false", RedactURL(raw), v)
		}
		uo.allowEviction = b
	}
	if q.Has("journal") {
		switch v := q.Get("journal"); v {
		case "on":
		case "off":
			uo.journalOff = true
		default:
			return rueidis.ClientOption{}, uo, fmt.Errorf("bad URL %s: journal=%q: want on or off", RedactURL(raw), v)
		}
	}
	for _, k := range []string{"ca", "cert", "key", "allow_eviction", "journal"} {
		q.Del(k)
	}
	u.RawQuery = q.Encode()
	copt, err := rueidis.ParseURL(u.String())
	if err != nil {
		return copt, uo, fmt.Errorf("bad URL %s: %w", RedactURL(raw), redactErr(err, raw))
	}
	if err := uo.tls(&copt, u.Scheme); err != nil {
		return copt, uo, fmt.Errorf("bad URL %s: %w", RedactURL(raw), err)
	}
	return copt, uo, nil
}

// tls applies the ca, cert and key options to the client's TLS settings.
func (uo urlOptions) tls(copt *rueidis.ClientOption, scheme string) error {
	if uo.ca == "" && uo.cert == "" && uo.key == "" {
		return nil
	}
	if scheme != "rediss" {
		return errors.New("ca, cert and key need rediss:// (TLS)")
	}
	if uo.ca != "" {
		pem, err := os.ReadFile(uo.ca)
		if err != nil {
			return fmt.Errorf("ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("ca: %s holds no PEM certificate", uo.ca)
		}
		// Only this CA: a private CA is the point of giving one, and
		// trusting the public ones as well would let any of them vouch
		// for the Redis host.
		copt.TLSConfig.RootCAs = pool
	}
	if (uo.cert == "") != (uo.key == "") {
		return errors.New("cert and key go together: give both or neither")
	}
	if uo.cert != "" {
		pair, err := tls.LoadX509KeyPair(uo.cert, uo.key)
		if err != nil {
			return fmt.Errorf("cert/key: %w", err)
		}
		copt.TLSConfig.Certificates = []tls.Certificate{pair}
	}
	return nil
}

// isUnreachable tells the errors of a Redis not reachable or not ready yet
// from those no retry mends.
func isUnreachable(err error) bool {
	if err == nil {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, rueidis.ErrNoSlot) ||
		errors.Is(err, rueidis.ErrClosing) {
		return true
	}
	var re *rueidis.RedisError
	if errors.As(err, &re) {
		// A Cluster still forming, a replica being promoted, a server
		// loading its data set: each answers like this until it is ready.
		msg := re.Error()
		for _, p := range []string{"CLUSTERDOWN", "LOADING", "TRYAGAIN", "MASTERDOWN", "MOVED", "ASK"} {
			if strings.HasPrefix(msg, p) {
				return true
			}
		}
		return false
	}
	// Dial errors that are not net.Error (refused connections are wrapped
	// as *net.OpError, which is one) end up here as plain text.
	return strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "no such host")
}

// markUnreachable wraps err with ErrUnreachable when it is one a retry may
// mend.
func markUnreachable(err error) error {
	if isUnreachable(err) {
		return unreachable{err}
	}
	return err
}

// ClientOptions returns the rueidis options a store URL stands for, read
// as Open reads it (TLS files loaded, Skript's own query options taken
// out), for tools that talk to the same Redis beside the store. Its errors
// hold no password.
func ClientOptions(url string) (rueidis.ClientOption, error) {
	copt, _, err := parseURL(url)
	if err != nil {
		return copt, fmt.Errorf("redis store: %w", err)
	}
	copt.DisableCache = true
	return copt, nil
}
