package server

import (
	"encoding/json"
	"net/http"

	"github.com/skript-dev/skript/schedule"
	"github.com/skript-dev/skript/service"
)

// ScheduleSpec is the body of a schedule's addition.
type ScheduleSpec struct {
	Name     string           `json:"name"`
	Cron     string           `json:"cron"`
	TimeZone string           `json:"time_zone,omitempty"`
	Workflow *WorkflowSource  `json:"workflow"`
	Inputs   json.RawMessage  `json:"inputs,omitempty"`
	Overlap  schedule.Overlap `json:"overlap,omitempty"`
	CatchUp  schedule.CatchUp `json:"catch_up,omitempty"`
	Paused   bool             `json:"paused,omitempty"`
}

func (s *Server) schedules() (*schedule.Manager, error) {
	if s.cfg.Schedules == nil {
		return nil, &service.Error{Code: service.Unsupported, Message: "this server keeps no schedules"}
	}
	return s.cfg.Schedules, nil
}

func (s *Server) listSchedules(w http.ResponseWriter, r *http.Request) error {
	m, err := s.schedules()
	if err != nil {
		return err
	}
	all, err := m.List(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"schedules": all})
}

func (s *Server) addSchedule(w http.ResponseWriter, r *http.Request) error {
	m, err := s.schedules()
	if err != nil {
		return err
	}
	var req ScheduleSpec
	if err := decode(r, &req, false); err != nil {
		return err
	}
	if err := s.limitStart(w, r); err != nil {
		return err
	}
	// Compiled here first for the size limit and the positioned errors.
	if _, err := s.compileSource(req.Workflow); err != nil {
		return err
	}
	info, err := m.Add(r.Context(), schedule.Spec{Name: req.Name, Cron: req.Cron, TimeZone: req.TimeZone, File: req.Workflow.File,
		Source: req.Workflow.Source, Inputs: req.Inputs, Overlap: req.Overlap, CatchUp: req.CatchUp, Paused: req.Paused})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, info)
}

func (s *Server) getSchedule(w http.ResponseWriter, r *http.Request) error {
	m, err := s.schedules()
	if err != nil {
		return err
	}
	info, err := m.Get(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, info)
}

func (s *Server) deleteSchedule(w http.ResponseWriter, r *http.Request) error {
	m, err := s.schedules()
	if err != nil {
		return err
	}
	if err := m.Delete(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) pauseSchedule(w http.ResponseWriter, r *http.Request) error {
	return s.setPaused(w, r, true)
}

func (s *Server) resumeSchedule(w http.ResponseWriter, r *http.Request) error {
	return s.setPaused(w, r, false)
}

func (s *Server) setPaused(w http.ResponseWriter, r *http.Request, paused bool) error {
	m, err := s.schedules()
	if err != nil {
		return err
	}
	info, err := m.Pause(r.Context(), r.PathValue("name"), paused)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, info)
}
