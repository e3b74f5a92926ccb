package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/cairndb/cairn/procedures"
)

// Log levels a configuration may name.
var logLevels = map[string]bool{"debug": true, "info": true, "warn": true, "error": true}

// fileConfig is the YAML configuration file. Every field is optional;
// a key it does not know is an error.
type fileConfig struct {
	LogLevel        *string `yaml:"log_level"`
	LogFormat       *string `yaml:"log_format"`
	SlowQueryMillis *int64  `yaml:"slow_query_threshold_millis"`
	DataDir         *string `yaml:"data_dir"`
	User            *struct {
		Name     *string `yaml:"name"`
		Password *string `yaml:"password"`
	} `yaml:"user"`
	Listener *struct {
		Host                   *string `yaml:"host"`
		Port                   *int    `yaml:"port"`
		Socket                 *string `yaml:"socket"`
		MaxConnections         *uint64 `yaml:"max_connections"`
		ReadTimeoutMillis      *uint64 `yaml:"read_timeout_millis"`
		WriteTimeoutMillis     *uint64 `yaml:"write_timeout_millis"`
		TLSCert                *string `yaml:"tls_cert"`
		TLSKey                 *string `yaml:"tls_key"`
		RequireSecureTransport *bool   `yaml:"require_secure_transport"`
		ShutdownTimeoutMillis  *uint64 `yaml:"shutdown_timeout_millis"`
	} `yaml:"listener"`
	Behavior *struct {
		ReadOnly          *bool    `yaml:"read_only"`
		AutoCommit        *bool    `yaml:"autocommit"`
		GCIntervalSeconds *int64   `yaml:"gc_interval_seconds"`
		GCGrowthFactor    *float64 `yaml:"gc_growth_factor"`
		PlanCache         *bool    `yaml:"plan_cache"`
		DirectResults     *bool    `yaml:"direct_results"`
		CacheSize         *string  `yaml:"cache_size"`
	} `yaml:"behavior"`
	Backups []struct {
		Name         string            `yaml:"name"`
		URL          string            `yaml:"url"`
		Every        string            `yaml:"every"`
		At           string            `yaml:"at"`
		KeepVerified bool              `yaml:"keep_verified"`
		Params       map[string]string `yaml:"params"`
	} `yaml:"backups"`
}

// LoadConfigFile reads the YAML configuration file at path into cfg:
// settings it names replace cfg's (the caller applies command-line flags
// after, so they win). A key the file format does not know, or a bad
// value, is an error naming the key.
func LoadConfigFile(path string, cfg *Config) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	var fc fileConfig
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&fc); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config %s: %w", path, err)
	}
	bad := func(key string, format string, args ...any) error {
		return fmt.Errorf("config %s: %s: %s", path, key, fmt.Sprintf(format, args...))
	}
	if v := fc.LogLevel; v != nil {
		if !logLevels[*v] {
			return bad("log_level", "%q is not one of debug, info, warn, error", *v)
		}
		cfg.LogLevel = *v
	}
	if v := fc.LogFormat; v != nil {
		if !logFormats[*v] {
			return bad("log_format", "%q is not one of console, json", *v)
		}
		cfg.LogFormat = *v
	}
	if v := fc.SlowQueryMillis; v != nil {
		// 0 in the file means never, as a negative duration does in Config.
		cfg.SlowQuery = time.Duration(*v) * time.Millisecond
		if *v <= 0 {
			cfg.SlowQuery = -1
		}
	}
	if v := fc.DataDir; v != nil {
		if *v == "" {
			return bad("data_dir", "empty")
		}
		cfg.DataDir = *v
	}
	if u := fc.User; u != nil {
		if u.Name != nil {
			if *u.Name == "" {
				return bad("user.name", "empty")
			}
			cfg.User = *u.Name
		}
		if u.Password != nil {
			cfg.Password = *u.Password
		}
	}
	if l := fc.Listener; l != nil {
		if l.Host != nil {
			cfg.Host = *l.Host
		}
		if l.Port != nil {
			if *l.Port < 0 || *l.Port > 65535 {
				return bad("listener.port", "%d is not a TCP port", *l.Port)
			}
			cfg.Port = *l.Port
		}
		if l.Socket != nil {
			cfg.Socket = *l.Socket
		}
		if l.MaxConnections != nil {
			cfg.MaxConnections = *l.MaxConnections
		}
		if l.ReadTimeoutMillis != nil {
			cfg.ReadTimeout = time.Duration(*l.ReadTimeoutMillis) * time.Millisecond
		}
		if l.WriteTimeoutMillis != nil {
			cfg.WriteTimeout = time.Duration(*l.WriteTimeoutMillis) * time.Millisecond
		}
		if l.TLSCert != nil {
			cfg.TLSCert = *l.TLSCert
		}
		if l.TLSKey != nil {
			cfg.TLSKey = *l.TLSKey
		}
		if l.RequireSecureTransport != nil {
			cfg.RequireSecureTransport = *l.RequireSecureTransport
		}
		if l.ShutdownTimeoutMillis != nil {
			cfg.ShutdownTimeout = time.Duration(*l.ShutdownTimeoutMillis) * time.Millisecond
		}
	}
	if b := fc.Behavior; b != nil {
		if b.ReadOnly != nil {
			cfg.ReadOnly = *b.ReadOnly
		}
		if b.AutoCommit != nil {
			v := *b.AutoCommit
			cfg.AutoCommit = &v
		}
		if v := b.GCIntervalSeconds; v != nil {
			// 0 in the file means never, as a negative interval does in Config.
			cfg.GCInterval = time.Duration(*v) * time.Second
			if *v <= 0 {
				cfg.GCInterval = -1
			}
		}
		if v := b.PlanCache; v != nil {
			cfg.NoPlanCache = !*v
		}
		if v := b.DirectResults; v != nil {
			cfg.NoDirectResults = !*v
		}
		if v := b.CacheSize; v != nil {
			n, err := ParseCacheSize(*v)
			if err != nil {
				return bad("behavior.cache_size", "%v", err)
			}
			cfg.CacheSize = n
		}
		if v := b.GCGrowthFactor; v != nil {
			switch {
			case *v == 0:
				cfg.GCGrowthFactor = -1 // never, as a negative factor in Config
			case *v <= 1:
				return bad("behavior.gc_growth_factor", "%v: give a factor above 1 (such as 2), or 0 for never", *v)
			default:
				cfg.GCGrowthFactor = *v
			}
		}
	}
	seen := map[string]bool{}
	for i, b := range fc.Backups {
		key := fmt.Sprintf("backups[%d]", i)
		s := procedures.Schedule{Name: b.Name, URL: b.URL, At: b.At, KeepVerified: b.KeepVerified, Params: b.Params}
		if b.Every != "" {
			d, err := time.ParseDuration(b.Every)
			if err != nil {
				return bad(key+".every", "%q is not a duration such as 1h or 30m", b.Every)
			}
			s.Every = d
		}
		if err := procedures.CheckSchedule(s); err != nil {
			return bad(key, "%v", err)
		}
		if seen[s.Name] {
			return bad(key+".name", "%q is used twice", s.Name)
		}
		seen[s.Name] = true
		cfg.Backups = append(cfg.Backups, s)
	}
	return nil
}

// MinCacheSize is the smallest cache ParseCacheSize accepts.
const MinCacheSize = 1 << 20

// ParseCacheSize reads a size in bytes for the block cache: a whole number,
// or one with a binary suffix K, M, G or T (also written KB or KiB, and so
// on, all powers of 1024 as in MySQL's settings): "268435456", "256M",
// "1GiB". It refuses sizes under MinCacheSize.
func ParseCacheSize(s string) (int64, error) {
	num := strings.TrimRight(s, "KMGTkmgtiIbB")
	unit := strings.ToUpper(s[len(num):])
	shift := map[string]uint{"": 0, "B": 0, "K": 10, "KB": 10, "KIB": 10, "M": 20, "MB": 20, "MIB": 20,
		"G": 30, "GB": 30, "GIB": 30, "T": 40, "TB": 40, "TIB": 40}
	sh, okUnit := shift[unit]
	n, err := strconv.ParseInt(num, 10, 64)
	if !okUnit || err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a size such as 256M or 1G", s)
	}
	if n > math.MaxInt64>>sh {
		return 0, fmt.Errorf("%q is too large", s)
	}
	if n<<sh < MinCacheSize {
		return 0, fmt.Errorf("%q is below the least cache size, 1M", s)
	}
	return n << sh, nil
}
