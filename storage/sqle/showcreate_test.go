package sqle

import (
	"context"
	"strings"
	"testing"
)

// SHOW CREATE TABLE output, executed under another name, makes a table
// whose SHOW CREATE TABLE is the same; SHOW TABLE STATUS and
// information_schema.tables count the rows.
func TestShowCreateTableRecreates(t *testing.T) {
	e := newTestEngine(t, "")
	ctx := e.NewContext(context.Background(), "")
	for _, q := range []string{
		"CREATE DATABASE d", "USE d",
		"CREATE TABLE parent (id INT PRIMARY KEY)",
		`CREATE TABLE t (
			id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
			code CHAR(4) COLLATE utf8mb4_0900_ai_ci NOT NULL,
			note TEXT COMMENT 'free text',
			state ENUM('a','b') NOT NULL DEFAULT 'b',
			amount DECIMAL(10,2) DEFAULT '0.00',
			at DATETIME(3) DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
			pid INT,
			PRIMARY KEY (id),
			UNIQUE KEY code_uq (code),
			KEY note_idx (note(8), state),
			CONSTRAINT t_parent FOREIGN KEY (pid) REFERENCES parent (id) ON DELETE SET NULL,
			CONSTRAINT amount_ok CHECK (amount >= 0)
		) COMMENT='things'`,
		"INSERT INTO t (code, amount) VALUES ('ab', 1), ('cd', 2), ('ef', 3)",
	} {
		query(t, e, ctx, q)
	}
	orig := query(t, e, ctx, "SHOW CREATE TABLE t")[0]
	stmt := strings.SplitN(orig, "|", 2)[1]
	copyStmt := strings.Replace(stmt, "CREATE TABLE `t`", "CREATE TABLE `t2`", 1)
	copyStmt = strings.Replace(copyStmt, "CONSTRAINT `t_parent`", "CONSTRAINT `t2_parent`", 1)
	copyStmt = strings.Replace(copyStmt, "CONSTRAINT `amount_ok`", "CONSTRAINT `amount_ok2`", 1)
	query(t, e, ctx, copyStmt)
	again := strings.SplitN(query(t, e, ctx, "SHOW CREATE TABLE t2")[0], "|", 2)[1]
	want := strings.NewReplacer("`t2`", "`t`", "`t2_parent`", "`t_parent`", "`amount_ok2`", "`amount_ok`", "AUTO_INCREMENT=4 ", "").Replace(again)
	if want != strings.Replace(stmt, "AUTO_INCREMENT=4 ", "", 1) {
		t.Fatalf("recreated table differs:\n%s\nfrom\n%s", again, stmt)
	}
	expectRows(t, e, ctx, "SELECT table_rows FROM information_schema.tables WHERE table_schema = 'd' AND table_name = 't'", "3")
	status := query(t, e, ctx, "SHOW TABLE STATUS LIKE 't'")
	if len(status) != 1 || strings.Split(status[0], "|")[4] != "3" {
		t.Fatalf("SHOW TABLE STATUS: %q", status)
	}
}

// Triggers and procedures from mariadb-dump lose their /*!50003 */
// wrappers when stored, so a dump of a restored dump restores again.
func TestStripVersionComments(t *testing.T) {
	for in, want := range map[string]string{
		"/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = '/*!x*/' */": "CREATE DEFINER=`root`@`localhost` TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = '/*!x*/'",
		"CREATE TRIGGER tr /* keep */ BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1":                                                          "CREATE TRIGGER tr /* keep */ BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1",
	} {
		if got := stripVersionComments(in); got != want {
			t.Errorf("stripVersionComments(%q)\n got  %q\n want %q", in, got, want)
		}
	}
}
