package expr

import (
	"fmt"
	"strings"

	"github.com/expr-lang/expr/ast"
)

// Statuses are the statuses a node record can have, as `nodes.X.status`
// reads them.
var Statuses = []string{"running", "succeeded", "failed", "cancelled", "skipped"}

// statusSynonyms are what other engines and habits call the statuses.
var statusSynonyms = map[string]string{
	"success": "succeeded", "successful": "succeeded", "succeed": "succeeded", "ok": "succeeded",
	"done": "succeeded", "completed": "succeeded", "complete": "succeeded", "passed": "succeeded",
	"fail": "failed", "failure": "failed", "error": "failed", "errored": "failed",
	"canceled": "cancelled", "cancel": "cancelled", "aborted": "cancelled",
	"skip": "skipped", "omitted": "skipped", "upstream_failed": "skipped",
	"pending": "running", "started": "running",
}

// statusCompare records a comparison of a node's status (`nodes.X.status`)
// with a string literal that no status is, such as "Failed" or "success":
// it could never hold as meant, whatever the run does.
func (w *walker) statusCompare(n *ast.BinaryNode) {
	switch n.Operator {
	case "==", "!=":
		if isStatus(n.Left) {
			w.statusLiteral(n.Right)
		} else if isStatus(n.Right) {
			w.statusLiteral(n.Left)
		}
	case "in", "not in":
		if isStatus(n.Left) {
			if arr, ok := n.Right.(*ast.ArrayNode); ok {
				for _, e := range arr.Nodes {
					w.statusLiteral(e)
				}
			}
		}
	}
}

// isStatus says whether n reads `nodes.ID.status` (or nodes['ID'].status).
func isStatus(n ast.Node) bool {
	if c, ok := n.(*ast.ChainNode); ok {
		n = c.Node
	}
	m, ok := n.(*ast.MemberNode)
	if !ok {
		return false
	}
	prop, ok := m.Property.(*ast.StringNode)
	if !ok || prop.Value != "status" {
		return false
	}
	inner := m.Node
	if c, ok := inner.(*ast.ChainNode); ok {
		inner = c.Node
	}
	id, ok := inner.(*ast.MemberNode)
	if !ok {
		return false
	}
	root, ok := id.Node.(*ast.IdentifierNode)
	return ok && root.Value == "nodes"
}

func (w *walker) statusLiteral(n ast.Node) {
	s, ok := n.(*ast.StringNode)
	if !ok {
		return
	}
	for _, st := range Statuses {
		if s.Value == st {
			return
		}
	}
	hint := ""
	low := strings.ToLower(strings.TrimSpace(s.Value))
	switch {
	case contains(Statuses, low):
		hint = fmt.Sprintf("; did you mean %q? statuses are lower case", low)
	case statusSynonyms[low] != "":
		hint = fmt.Sprintf("; did you mean %q?", statusSynonyms[low])
	}
	w.p.mistakes = append(w.p.mistakes, mistake{at: s.Location().From,
		msg: fmt.Sprintf("a node's status is never %q%s (a status is %s)", s.Value, hint, strings.Join(Statuses, ", "))})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// markHyphens finds `nodes.my-step`: a node id with a hyphen read with a
// dot, which expr-lang takes for nodes.my minus step. Ids are ASCII, so
// the scan over runes is a scan over the id's characters.
func markHyphens(text string, uses []rawUse) {
	rs := []rune(text)
	for i := range uses {
		u := &uses[i]
		if u.kind != useNodes || len(u.path) == 0 || !u.path[0].dot {
			continue
		}
		end := u.path[0].to
		if end+1 >= len(rs) || rs[end] != '-' || !isIDRune(rs[end+1]) {
			continue
		}
		j := end
		for j < len(rs) && (isIDRune(rs[j]) || rs[j] == '-') {
			j++
		}
		u.hyphen = u.path[0].name + string(rs[end:j])
		for k := range uses {
			if uses[k].kind == useIdent && uses[k].from == end+1 {
				uses[k].minus = true
			}
		}
	}
}

func isIDRune(r rune) bool {
	return r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}
