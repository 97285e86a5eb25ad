package main

import (
	"log/slog"
	"time"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/audit"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/consent"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/service"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/vault"
)

// auditLog is the audit log of the store.
func (a *app) auditLog(st gateway.Store) *audit.Log { return audit.New(st, time.Now) }

// gate is the consent gate, recording changes in the audit log.
func (a *app) gate(st gateway.Store) *consent.Gate {
	return consent.New(st, nil).WithAudit(a.auditLog(st))
}

// service is the gateway's composition for one CLI command (no schedule,
// logs to stderr only at warn level and above).
func (a *app) service(st gateway.Store, kr *vault.Keyring) *service.Gateway {
	log := slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return a.gatewayService(st, kr, log, nil, nil)
}
