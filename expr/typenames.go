package expr

import (
	"regexp"
	"strings"
)

// goTypes matches the Go spellings of value types that expr-lang puts in
// its messages ("invalid operation: []interface {} + int"): longest first,
// so that a map of lists reads as a map, not as "map[string]list".
var goTypes = regexp.MustCompile(`map\[[^\]]*\]` + goElem + `|\[\]` + goElem +
	`|\*?time\.Duration|\*?time\.Time|<nil>|\binterface \{\}|\b(?:u?int(?:8|16|32|64)?|float(?:32|64)|bool|any)\b`)

// goElem is the element type of a Go slice or map type, itself possibly
// a slice or map.
const goElem = `(?:\[\]|map\[[^\]]*\])*(?:interface \{\}|[\w.*]+)`

// skriptTypeNames rewrites the Go type names in an expr-lang message into
// the names a workflow author knows (value.TypeName's): list, map,
// integer, number, boolean, null, duration, time.
func skriptTypeNames(msg string) string {
	idx := goTypes.FindAllStringIndex(msg, -1)
	if idx == nil {
		return msg
	}
	var out strings.Builder
	last := 0
	for _, ix := range idx {
		// int(x), float(x), bool(x) are calls of expr-lang's functions of
		// those names, not types.
		if ix[1] < len(msg) && msg[ix[1]] == '(' {
			continue
		}
		out.WriteString(msg[last:ix[0]])
		out.WriteString(skriptTypeName(msg[ix[0]:ix[1]]))
		last = ix[1]
	}
	out.WriteString(msg[last:])
	return out.String()
}

// skriptTypeName names one Go type matched by goTypes.
func skriptTypeName(m string) string {
	switch {
	case strings.HasPrefix(m, "map["):
		return "map"
	case strings.HasPrefix(m, "[]"):
		return "list"
	case strings.HasSuffix(m, "time.Duration"):
		return "duration"
	case strings.HasSuffix(m, "time.Time"):
		return "time"
	case m == "<nil>":
		return "null"
	case m == "interface {}" || m == "any":
		return "value"
	case m == "bool":
		return "boolean"
	case strings.HasPrefix(m, "float"):
		return "number"
	}
	return "integer"
}
