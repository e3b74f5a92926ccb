package server

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cairndb/cairn/procedures"
)

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// A configuration file sets what it names and leaves the rest; an unknown
// key or a bad value is an error naming the key.
func TestLoadConfigFile(t *testing.T) {
	path := writeConfig(t, `
log_level: debug
log_format: json
slow_query_threshold_millis: 250
data_dir: /srv/cairn
user:
  name: admin
  password: pw
listener:
  host: 0.0.0.0
  port: 3307
  max_connections: 10
  read_timeout_millis: 1500
  shutdown_timeout_millis: 5000
behavior:
  read_only: true
  gc_interval_seconds: 0
  gc_growth_factor: 3.5
  cache_size: 1GiB
backups:
  - name: nightly
    url: s3://bucket/cairn/{database}
    every: 24h
    at: "02:30"
    keep_verified: true
    params:
      endpoint: http://127.0.0.1:7070
      encryption_key_file: /etc/cairn/backup.key
  - name: hourly
    url: file:///var/backups/cairn/{database}
    every: 1h
`)
	cfg := Config{Host: DefaultHost, Port: DefaultPort, User: "root", WriteTimeout: time.Second}
	if err := LoadConfigFile(path, &cfg); err != nil {
		t.Fatal(err)
	}
	want := Config{Host: "0.0.0.0", Port: 3307, DataDir: "/srv/cairn", User: "admin", Password: "pw", MaxConnections: 10,
		ReadTimeout: 1500 * time.Millisecond, WriteTimeout: time.Second, ReadOnly: true, LogLevel: "debug",
		LogFormat: "json", SlowQuery: 250 * time.Millisecond, ShutdownTimeout: 5 * time.Second, GCInterval: -1, GCGrowthFactor: 3.5,
		CacheSize: 1 << 30,
		Backups: []procedures.Schedule{
			{Name: "nightly", URL: "s3://bucket/cairn/{database}", Every: 24 * time.Hour, At: "02:30", KeepVerified: true,
				Params: map[string]string{"endpoint": "http://127.0.0.1:7070", "encryption_key_file": "/etc/cairn/backup.key"}},
			{Name: "hourly", URL: "file:///var/backups/cairn/{database}", Every: time.Hour},
		}}
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("got %+v\nwant %+v", cfg, want)
	}
	for text, key := range map[string]string{
		"listner:\n  port: 1\n":                                      "listner",
		"listener:\n  prot: 1\n":                                     "prot",
		"listener:\n  port: 70000\n":                                 "listener.port",
		"log_level: loud\n":                                          "log_level",
		"log_format: xml\n":                                          "log_format",
		"listener:\n  port: three\n":                                 "three",
		"user:\n  name: \"\"\n":                                      "user.name",
		"behavior:\n  read_only: 2\n":                                "line 2", // a wrong type names the line
		"behavior:\n  gc_growth_factor: 0.5\n":                       "behavior.gc_growth_factor",
		"behavior:\n  cache_size: lots\n":                            "behavior.cache_size",
		"backups:\n  - name: b\n    url: file:///x\n    every: 1h\n": "backups[0]: url",
		"backups:\n  - name: b\n    url: file:///{database}\n    every: soon\n":                                                        "backups[0].every",
		"backups:\n  - name: b\n    url: file:///{database}\n    at: \"25:00\"\n":                                                      "backups[0]: at",
		"backups:\n  - name: b\n    url: file:///{database}\n":                                                                         "backups[0]: give every",
		"backups:\n  - name: b c\n    url: file:///{database}\n    every: 1h\n":                                                        "backups[0]: name",
		"backups:\n  - name: b\n    url: ftp://{database}\n    every: 1h\n":                                                            "unknown url scheme",
		"backups:\n  - name: b\n    url: file:///{database}\n    every: 1h\n    params: {secret: x}\n":                                 "unknown param",
		"backups:\n  - name: b\n    url: file:///{database}\n    evry: 1h\n":                                                           "evry",
		"backups:\n  - {name: b, url: \"file:///a/{database}\", every: 1h}\n  - {name: b, url: \"file:///b/{database}\", every: 1h}\n": "backups[1].name",
	} {
		var c Config
		err := LoadConfigFile(writeConfig(t, text), &c)
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("config %q: %v, want an error naming %s", text, err, key)
		}
	}
	if err := LoadConfigFile(writeConfig(t, ""), &cfg); err != nil {
		t.Errorf("empty file: %v", err)
	}
}

func TestParseCacheSize(t *testing.T) {
	for in, want := range map[string]int64{
		"268435456": 256 << 20, "256M": 256 << 20, "256m": 256 << 20, "256MB": 256 << 20, "256MiB": 256 << 20,
		"1G": 1 << 30, "1gib": 1 << 30, "2T": 2 << 40, "1024K": 1 << 20, "1M": MinCacheSize,
	} {
		if got, err := ParseCacheSize(in); err != nil || got != want {
			t.Errorf("ParseCacheSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for in, msg := range map[string]string{
		"": "not a size", "M": "not a size", "-1G": "not a size", "1.5G": "not a size", "1 G": "not a size",
		"1Q": "not a size", "1GG": "not a size", "1Mi": "not a size", "512K": "below the least",
		"0": "below the least", "9999999T": "too large", "99999999999999999999": "not a size",
	} {
		if _, err := ParseCacheSize(in); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("ParseCacheSize(%q): %v, want an error saying %q", in, err, msg)
		}
	}
}
