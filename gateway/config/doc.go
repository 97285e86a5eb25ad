// Package config owns the gateway's configuration: the typed [Config]
// struct, its defaults, and how it is loaded and checked.
//
// What it owns:
//
//   - It is the only package in the project that imports viper. Every other
//     package receives plain Go values (a [LASConfig], a time.Duration, a
//     [Secret]) and never sees a viper instance or a *Config.
//   - Strict loading: [Load] and [LoadFile] merge, in increasing priority,
//     the defaults, a YAML file and UWLR_* environment variables into one
//     [Config]. Unknown keys, values of the wrong type, and durations
//     written as bare numbers are errors, and the result is checked with
//     [Config.Validate] before it is returned.
//   - Defaults live in one place: [Default]. The environment bindings are
//     derived from it, and a test checks that configs/gateway.example.yaml
//     documents every key with exactly these defaults.
//   - Per-vendor keys follow the vendor profile names: schedule.cap_<profile>,
//     returned by name from [ScheduleConfig.VendorCaps]. The package imports
//     nothing of ours; its tests hold these keys and their defaults to the
//     vendor table in gateway/soap.
//   - The [Secret] type for values that may carry credentials (for example
//     store.redis_url). It prints, marshals and logs as "[redacted]"; only
//     [Secret.Reveal] returns the real value.
//
// What it must not do:
//
//   - Keep global state. There is no package-level viper instance and no
//     "current config"; every Load builds and discards its own viper.
//   - Print, log or put into an error message the value of a secret.
//   - Read files other than the one it is asked to load (for example the
//     vault key file named by vault.keys_file: that is the vault's job).
package config
