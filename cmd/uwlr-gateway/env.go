package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/uwlr-gateway/uwlr-gateway/gateway"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/store/boltstore"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/store/redisstore"
	"github.com/uwlr-gateway/uwlr-gateway/gateway/vault"
)

// exitConsent is the distinct exit code of a refusal for missing consent.
const exitConsent = 3

// storeFlags are the global flags that choose the store and the key file.
type storeFlags struct {
	dataDir, driver, redisURL, vaultKeys string
}

func (a *app) registerStoreFlags(root *cobra.Command) {
	pf := root.PersistentFlags()
	pf.StringVar(&a.sf.dataDir, "data-dir", "", "directory of the embedded store (default: data_dir, ./data)")
	pf.StringVar(&a.sf.driver, "store", "", "store: bolt (embedded, default) or redis (default: store.driver)")
	pf.StringVar(&a.sf.redisURL, "redis-url", "", "Redis URL for --store redis (default: store.redis_url)")
	pf.StringVar(&a.sf.vaultKeys, "vault-keys", "", "vault key file (default: vault.keys_file, env UWLR_VAULT_KEYS_FILE)")
}

func (a *app) dataDir() string { return or(a.sf.dataDir, a.cfg.DataDir) }

func (a *app) openStore(ctx context.Context) (gateway.Store, error) {
	switch driver := or(a.sf.driver, a.cfg.Store.Driver); driver {
	case "bolt":
		dir := a.dataDir()
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, usageErr("data dir: %w", err)
		}
		st, err := boltstore.Open(filepath.Join(dir, "gateway.db"), boltstore.Options{})
		if err != nil {
			return nil, &exitError{code: exitFailure, err: fmt.Errorf("open store: %w", err)}
		}
		return st, nil
	case "redis":
		url := or(a.sf.redisURL, a.cfg.Store.RedisURL.Reveal())
		st, err := redisstore.Open(ctx, url, a.cfg.Store.KeyPrefix)
		if err != nil {
			return nil, &exitError{code: exitFailure, err: fmt.Errorf("open store: %w", err)}
		}
		return st, nil
	default:
		return nil, usageErr("--store %q: want bolt or redis", driver)
	}
}

func (a *app) keysPath() string {
	return or(a.sf.vaultKeys, a.cfg.Vault.KeysFile)
}

// loadKeys loads the keyring from the key file, or from UWLR_VAULT_KEYS.
func (a *app) loadKeys() (*vault.Keyring, error) {
	if p := a.keysPath(); p != "" {
		kr, err := vault.Load(p)
		if err != nil {
			return nil, usageErr("vault keys: %w", err)
		}
		return kr, nil
	}
	kr, err := vault.FromEnv()
	if err != nil {
		return nil, usageErr("vault keys: give --vault-keys FILE (or vault.keys_file, UWLR_VAULT_KEYS_FILE); create one with `uwlr-gateway keys generate --out FILE`: %w", err)
	}
	return kr, nil
}
