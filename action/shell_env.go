package action

import (
	"fmt"
	"sort"
	"strings"
)

// shellBaseEnv names the worker variables every command sees: what a
// program needs to find tools, a home, a temporary directory and the
// user's language and time zone. Everything else a worker holds (its store
// URL with a password, cloud credentials) stays out of the commands that
// workflows run, unless the operator passes it on (ShellOptions.PassEnv).
var shellBaseEnv = []string{"PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "LC_*", "TZ", "TMPDIR"}

// CheckEnvNames refuses names that cannot select an environment variable
// (empty, or holding '='), so a typo in --shell-env is reported when the
// worker starts. A name may end in '*' to select every variable with that
// prefix.
func CheckEnvNames(names []string) error {
	for _, n := range names {
		if n == "" || strings.ContainsAny(n, "= \t\n\x00") {
			return fmt.Errorf("environment variable name %q: want a name such as AWS_REGION, or a prefix such as AWS_*", n)
		}
	}
	return nil
}

// envMatch reports whether the variable name is selected by one of
// patterns (exact names, or prefixes ending in '*').
func envMatch(name string, patterns []string) bool {
	for _, p := range patterns {
		if prefix, ok := strings.CutSuffix(p, "*"); ok {
			if strings.HasPrefix(name, prefix) {
				return true
			}
		} else if name == p {
			return true
		}
	}
	return false
}

// shellEnv builds a command's environment: the base variables and those
// named by pass, taken from environ, then the step's own env, sorted so
// that the later of duplicate keys (which exec keeps) is stable.
func shellEnv(environ []string, pass []string, env map[string]any) []string {
	out := make([]string, 0, len(shellBaseEnv)+len(pass)+len(env))
	for _, kv := range environ {
		name, _, ok := strings.Cut(kv, "=")
		if ok && name != "" && (envMatch(name, shellBaseEnv) || envMatch(name, pass)) {
			if _, own := env[name]; !own {
				out = append(out, kv)
			}
		}
	}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v, _ := toString(env[k])
		out = append(out, k+"="+v)
	}
	return out
}
