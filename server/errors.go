package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/skript-dev/skript/dsl"
	"github.com/skript-dev/skript/service"
)

// ErrorBody is the JSON body of every failed request.
type ErrorBody struct {
	Code    string    `json:"code"`
	Message string    `json:"message"`
	Errors  []Problem `json:"errors,omitempty"`
}

// Problem is one positioned problem of a workflow.
type Problem struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Col     int    `json:"col,omitempty"`
	Message string `json:"message"`
}

// problems turns a compiler's errors into their JSON form.
func problems(errs dsl.ErrorList) []Problem {
	out := make([]Problem, len(errs))
	for i, e := range errs {
		out[i] = Problem{File: e.File, Line: e.Pos.Line, Col: e.Pos.Col, Message: e.Msg}
	}
	return out
}

// httpError is a failure the server itself finds (a bad body, a missing
// token, a limit), as opposed to the service's *service.Error.
type httpError struct {
	status int
	code   string
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &httpError{status: http.StatusBadRequest, code: string(service.Invalid), msg: fmt.Sprintf(format, args...)}
}

// statusOf maps a service code to its HTTP status.
func statusOf(code service.Code) int {
	switch code {
	case service.Invalid:
		return http.StatusBadRequest
	case service.NotFound:
		return http.StatusNotFound
	case service.Conflict:
		return http.StatusConflict
	case service.Unsupported:
		return http.StatusNotImplemented
	}
	return http.StatusInternalServerError
}

// fail writes err as an ErrorBody. Only a service's Internal error (or an
// untyped one) is a 5xx, and its cause is logged, not sent: a store's
// message may name a host.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	body := ErrorBody{Code: string(service.Internal), Message: "internal error"}
	status := http.StatusInternalServerError
	var he *httpError
	var se *service.Error
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &he):
		status, body.Code, body.Message = he.status, he.code, he.msg
	case errors.As(err, &mbe):
		status, body.Code = http.StatusRequestEntityTooLarge, "too_large"
		body.Message = fmt.Sprintf("request body over the limit of %d bytes", mbe.Limit)
	case errors.As(err, &se) && se.Code != service.Internal:
		status, body.Code, body.Message = statusOf(se.Code), string(se.Code), se.Error()
		var errs dsl.ErrorList
		if errors.As(err, &errs) {
			body.Errors = problems(errs)
		}
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client went away: nobody reads the answer.
		return
	default:
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	_ = writeJSON(w, status, body)
}

// decode reads a JSON body into v, refusing unknown fields (a typo in a
// field name is the client's mistake to hear about) and trailing data.
func decode(r *http.Request, v any, optional bool) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			return err
		case errors.Is(err, io.EOF) && optional:
			return nil
		case errors.Is(err, io.EOF):
			return badRequest("request body: want a JSON object")
		}
		return badRequest("request body: %v", err)
	}
	if dec.More() {
		return badRequest("request body: data after the JSON object")
	}
	if _, err := dec.Token(); err != nil && !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return badRequest("request body: %v", err)
	}
	return nil
}
