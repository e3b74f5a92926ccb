package procedures

import (
	"os"
	"strings"
	"testing"

	"github.com/cairndb/cairn/storage/remote/remotetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	remotetest.Stop()
	os.Exit(code)
}

// Backups and remotes on s3:// (versitygw): the endpoint as a param, shown
// in dolt_backups without secrets; sync, restore, push, clone.
func TestS3BackupsAndRemotes(t *testing.T) {
	endpoint := remotetest.S3Endpoint(t)
	s := newTestServer(t)
	s.exec("", "CREATE DATABASE db1")
	s.exec("db1", "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))", "INSERT INTO t VALUES (1, 'a'), (2, 'b')", "CALL dolt_commit('-Am', 'one')")
	url := "s3://" + remotetest.Bucket + "/" + strings.ReplaceAll(t.Name(), "/", "-")
	s.exec("db1", "CALL dolt_backup('add', 'b1', '"+url+"/backup', '--endpoint="+endpoint+"', '--region=us-east-1')")
	got := s.rows("db1", "SELECT name, url, params FROM dolt_backups")
	if len(got) != 1 || !strings.Contains(got[0], `"endpoint": "`+endpoint+`"`) || strings.Contains(got[0], remotetest.Secret) {
		t.Fatalf("dolt_backups: %v", got)
	}
	s.exec("db1", "CALL dolt_backup('sync', 'b1')")
	s.exec("", "CALL dolt_backup('restore', '"+url+"/backup', 'db2', '--endpoint="+endpoint+"')")
	if rows := s.rows("db2", "SELECT v FROM t ORDER BY id"); strings.Join(rows, ",") != "a,b" {
		t.Fatalf("restored from s3: %v", rows)
	}
	s.exec("db1", "CALL dolt_remote('add', 'origin', '"+url+"/remote', '--endpoint="+endpoint+"')")
	s.exec("db1", "CALL dolt_push('-u', 'origin', 'main')")
	s.exec("", "CALL dolt_clone('"+url+"/remote', 'db3', '--endpoint="+endpoint+"')")
	if rows := s.rows("db3", "SELECT COUNT(*) FROM t"); rows[0] != "2" {
		t.Fatalf("cloned from s3: %v", rows)
	}
	s.exec("db3", "INSERT INTO t VALUES (3, 'c')", "CALL dolt_commit('-am', 'three')", "CALL dolt_push()")
	s.exec("db1", "CALL dolt_pull()")
	if rows := s.rows("db1", "SELECT COUNT(*) FROM t"); rows[0] != "3" {
		t.Fatalf("pulled from s3: %v", rows)
	}
}
