package server

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/skript-dev/skript/action"
	"github.com/skript-dev/skript/blueprint"
	"github.com/skript-dev/skript/dsl"
	"github.com/skript-dev/skript/service"
)

// WorkflowSource is a workflow sent in a request.
type WorkflowSource struct {
	File   string `json:"file,omitempty"`
	Source string `json:"source"`
	NoOpt  bool   `json:"no_opt,omitempty"`
}

// defaultFile names a workflow sent without a file name in its errors.
const defaultFile = "workflow.yaml"

func (w *WorkflowSource) file() string {
	if w.File == "" {
		return defaultFile
	}
	return w.File
}

// compileSource compiles a sent workflow within the workflow size limit,
// from the cache when the same source was compiled recently.
func (s *Server) compileSource(w *WorkflowSource) (*blueprint.Blueprint, error) {
	if w == nil || w.Source == "" {
		return nil, badRequest("workflow: want its source")
	}
	if len(w.Source) > s.cfg.MaxWorkflowBytes {
		return nil, &httpError{status: http.StatusRequestEntityTooLarge, code: "too_large",
			msg: fmt.Sprintf("workflow: %d bytes, over the limit of %d", len(w.Source), s.cfg.MaxWorkflowBytes)}
	}
	key := sha256.Sum256(fmt.Appendf(nil, "%s\x00%t\x00%s", w.file(), w.NoOpt, w.Source))
	if bp := s.cache.get(key); bp != nil {
		return bp, nil
	}
	bp, err := s.svc.Compile(w.file(), []byte(w.Source), service.CompileOptions{NoOpt: w.NoOpt, MaxBytes: s.cfg.MaxWorkflowBytes})
	if err != nil {
		return nil, err
	}
	s.cache.put(key, bp)
	return bp, nil
}

// Validation is the answer to validate.
type Validation struct {
	Valid  bool      `json:"valid"`
	Errors []Problem `json:"errors"`
}

func (s *Server) validate(w http.ResponseWriter, r *http.Request) error {
	var src WorkflowSource
	if err := decode(r, &src, false); err != nil {
		return err
	}
	_, err := s.compileSource(&src)
	var errs dsl.ErrorList
	switch {
	case err == nil:
		return writeJSON(w, http.StatusOK, Validation{Valid: true, Errors: []Problem{}})
	case errors.As(err, &errs):
		return writeJSON(w, http.StatusOK, Validation{Errors: problems(errs)})
	}
	return err
}

// Compiled is the answer to compile.
type Compiled struct {
	Name      string          `json:"name"`
	Version   string          `json:"version,omitempty"`
	Hash      string          `json:"hash"`
	Blueprint json.RawMessage `json:"blueprint"`
}

func (s *Server) compile(w http.ResponseWriter, r *http.Request) error {
	var src WorkflowSource
	if err := decode(r, &src, false); err != nil {
		return err
	}
	bp, err := s.compileSource(&src)
	if err != nil {
		return err
	}
	data, err := blueprint.Encode(bp)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, Compiled{Name: bp.Name, Version: bp.Version, Hash: bp.Hash, Blueprint: data})
}

func (s *Server) schema(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Content-Type", "application/schema+json")
	_, err := w.Write(s.svc.Schema())
	return err
}

// Action is an action as the API describes it.
type Action struct {
	Name   string     `json:"name"`
	Doc    string     `json:"doc"`
	Params []Param    `json:"params"`
	OneOf  [][]string `json:"one_of,omitempty"`
	Open   bool       `json:"open,omitempty"`
}

// Param is one typed parameter of an action.
type Param struct {
	Name     string   `json:"name"`
	Type     string   `json:"type"`
	Elem     string   `json:"elem,omitempty"`
	Required bool     `json:"required,omitempty"`
	Default  any      `json:"default,omitempty"`
	Enum     []string `json:"enum,omitempty"`
	Doc      string   `json:"doc,omitempty"`
}

func describe(a *action.Action) Action {
	out := Action{Name: a.Name, Doc: a.Doc, Params: make([]Param, len(a.Schema.Fields)), OneOf: a.Schema.OneOf, Open: a.Schema.Open}
	for i, f := range a.Schema.Fields {
		p := Param{Name: f.Name, Type: f.Type.String(), Required: f.Required, Default: f.Default, Enum: f.Enum, Doc: f.Doc}
		if f.Elem != action.Any && (f.Type == action.List || f.Type == action.Map) {
			p.Elem = f.Elem.String()
		}
		out.Params[i] = p
	}
	return out
}

func (s *Server) listActions(w http.ResponseWriter, _ *http.Request) error {
	all, err := s.svc.Actions()
	if err != nil {
		return err
	}
	out := make([]Action, len(all))
	for i, a := range all {
		out[i] = describe(a)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"actions": out})
}

func (s *Server) getAction(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	found, err := s.svc.Actions(name)
	if err != nil {
		return &httpError{status: http.StatusNotFound, code: string(service.NotFound), msg: err.Error()}
	}
	return writeJSON(w, http.StatusOK, describe(found[0]))
}

// compileCache keeps the Blueprints of recently sent sources, so a
// client starting the same workflow again (a form, a script in a loop)
// does not pay for a compilation each time.
type compileCache struct {
	mu sync.Mutex
	m  map[[32]byte]*blueprint.Blueprint
}

// cacheSize bounds the cache; when full it starts again empty, which is
// enough for the few workflows a server starts again and again.
const cacheSize = 256

func (c *compileCache) get(key [32]byte) *blueprint.Blueprint {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[key]
}

func (c *compileCache) put(key [32]byte, bp *blueprint.Blueprint) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= cacheSize {
		c.m = map[[32]byte]*blueprint.Blueprint{}
	}
	c.m[key] = bp
}
