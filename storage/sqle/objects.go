package sqle

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/cairndb/cairn/storage/chunk"
	"github.com/cairndb/cairn/storage/repo"
	"github.com/cairndb/cairn/storage/tree"
)

// Views, triggers, stored procedures and events live in the root value as
// collections: prolly maps from the lower-case object name to the object's
// definition as JSON (a versioned object, see docs/sql.md). Being in the
// root, they are transactional and versioned like rows.

// collection returns the map of collection coll in the session's view, and
// whether the root has one. Without one, the map is an empty one put in
// the store only if forWrite: readers (every table name is looked up as a
// view first) need not write. Row edits waiting for COMMIT change no
// collection: they stay waiting.
func (db *Database) collection(ctx *sql.Context, coll string, forWrite bool) (tree.Map, bool, *txDB, error) {
	_, d, err := db.view(ctx)
	if err != nil {
		return tree.Map{}, false, nil, err
	}
	h, ok := d.root.Collection(coll)
	if !ok {
		if !forWrite {
			return tree.Map{}, false, d, nil
		}
		m, err := db.st.emptyMap(ctx)
		return m, false, d, err
	}
	m, err := tree.LoadMap(ctx, db.st.ns, h)
	return m, true, d, err
}

func getObject[T any](ctx *sql.Context, db *Database, coll, name string) (T, bool, error) {
	var v T
	readingObjectOf(ctx, db.Name())
	m, ok, _, err := db.collection(ctx, coll, false)
	if err != nil || !ok {
		return v, false, err
	}
	b, ok, err := m.Get(ctx, []byte(strings.ToLower(name)))
	if err != nil || !ok {
		return v, false, err
	}
	if err := decodeObject(m.Hash(), b, &v); err != nil {
		return v, false, err
	}
	return v, true, nil
}

func listObjects[T any](ctx *sql.Context, db *Database, coll string) ([]T, error) {
	readingObjectOf(ctx, db.Name())
	m, ok, _, err := db.collection(ctx, coll, false)
	if err != nil || !ok {
		return nil, err
	}
	it, err := m.Iter(ctx, tree.Range{})
	if err != nil {
		return nil, err
	}
	var out []T
	for {
		_, b, err := it.Next(ctx)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		var v T
		if err := decodeObject(m.Hash(), b, &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
}

// objectEnvelope versions stored definitions.
type objectEnvelope struct {
	Version int             `json:"v"`
	Def     json.RawMessage `json:"def"`
}

func decodeObject(h chunk.Hash, b []byte, v any) error {
	var env objectEnvelope
	if err := json.Unmarshal(b, &env); err != nil {
		return chunk.Corruptf(h, "stored definition: %v", err)
	}
	if env.Version != 1 {
		return fmt.Errorf("stored definition of version %d: this cairn reads version 1", env.Version)
	}
	if err := json.Unmarshal(env.Def, v); err != nil {
		return chunk.Corruptf(h, "stored definition: %v", err)
	}
	return nil
}

// putObject stores v under name (replacing), or deletes name if v is nil.
func (db *Database) putObject(ctx *sql.Context, coll, name string, v any) error {
	if err := db.checkWritable(ctx); err != nil {
		return err
	}
	m, _, d, err := db.collection(ctx, coll, true)
	if err != nil {
		return err
	}
	e := tree.Edit{Key: []byte(strings.ToLower(name))}
	if v == nil {
		e.Delete = true
	} else {
		def, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if e.Value, err = json.Marshal(objectEnvelope{Version: 1, Def: def}); err != nil {
			return err
		}
	}
	if m, err = m.Edit(ctx, []tree.Edit{e}); err != nil {
		return err
	}
	var root *repo.RootValue
	if m.Count() == 0 {
		root, _ = d.root.DeleteCollection(coll)
	} else if root, err = d.root.PutCollection(coll, m.Hash()); err != nil {
		return err
	}
	d.root = root
	return nil
}

// Views.

// CreateView implements sql.ViewDatabase.
func (db *Database) CreateView(ctx *sql.Context, name, selectStatement, createViewStmt string) error {
	_, ok, err := getObject[sql.ViewDefinition](ctx, db, repo.CollectionViews, name)
	if err != nil {
		return err
	}
	if ok {
		return sql.ErrExistingView.New(db.Name(), name)
	}
	def := sql.ViewDefinition{Name: name, TextDefinition: selectStatement, CreateViewStatement: createViewStmt}
	if mode, err := ctx.GetSessionVariable(ctx, "sql_mode"); err == nil {
		def.SqlMode, _ = mode.(string)
	}
	return db.putObject(ctx, repo.CollectionViews, name, def)
}

// DropView implements sql.ViewDatabase.
func (db *Database) DropView(ctx *sql.Context, name string) error {
	_, ok, err := getObject[sql.ViewDefinition](ctx, db, repo.CollectionViews, name)
	if err != nil {
		return err
	}
	if !ok {
		return sql.ErrViewDoesNotExist.New(db.Name(), name)
	}
	return db.putObject(ctx, repo.CollectionViews, name, nil)
}

// GetViewDefinition implements sql.ViewDatabase.
func (db *Database) GetViewDefinition(ctx *sql.Context, name string) (sql.ViewDefinition, bool, error) {
	return getObject[sql.ViewDefinition](ctx, db, repo.CollectionViews, name)
}

// AllViews implements sql.ViewDatabase.
func (db *Database) AllViews(ctx *sql.Context) ([]sql.ViewDefinition, error) {
	return listObjects[sql.ViewDefinition](ctx, db, repo.CollectionViews)
}

// Triggers.

// GetTriggers implements sql.TriggerDatabase.
//
// go-mysql-server parses each trigger's statement in the session's current
// database, so when another database is current (mariadb-dump --databases
// a b reads information_schema.triggers from b), the table after ON would
// not be found: the statements then name it with this database.
func (db *Database) GetTriggers(ctx *sql.Context) ([]sql.TriggerDefinition, error) {
	defs, err := listObjects[sql.TriggerDefinition](ctx, db, repo.CollectionTriggers)
	if err != nil {
		return nil, err
	}
	if s, ok := ctx.Session.(*Session); ok {
		if cur := s.BaseSession.GetCurrentDatabase(); cur != "" && !strings.EqualFold(cur, db.Name()) {
			for i := range defs {
				defs[i].CreateStatement = qualifyTriggerTable(defs[i].CreateStatement, db.Name())
			}
		}
	}
	return defs, nil
}

// triggerTable finds the table of a CREATE TRIGGER statement: the name
// after "{BEFORE|AFTER} {INSERT|UPDATE|DELETE} ON".
var triggerTable = regexp.MustCompile("(?is)^(.*?\\b(?:BEFORE|AFTER)\\s+(?:INSERT|UPDATE|DELETE)\\s+ON\\s+)(`(?:[^`]|``)+`|[A-Za-z0-9_$]+)(\\s*\\.)?")

// qualifyTriggerTable returns stmt with its table named in database db,
// unless it names a database already.
func qualifyTriggerTable(stmt, db string) string {
	m := triggerTable.FindStringSubmatchIndex(stmt)
	if m == nil || m[6] >= 0 { // no match, or already qualified
		return stmt
	}
	quoted := "`" + strings.ReplaceAll(db, "`", "``") + "`."
	return stmt[:m[4]] + quoted + stmt[m[4]:]
}

// CreateTrigger implements sql.TriggerDatabase. The statement is stored
// without the /*!50003 … */ wrappers mariadb-dump puts around it, so that a
// dump of a restored dump restores again.
func (db *Database) CreateTrigger(ctx *sql.Context, def sql.TriggerDefinition) error {
	_, ok, err := getObject[sql.TriggerDefinition](ctx, db, repo.CollectionTriggers, def.Name)
	if err != nil {
		return err
	}
	if ok {
		return fmt.Errorf("trigger %s already exists", def.Name)
	}
	def.CreateStatement = stripVersionComments(def.CreateStatement)
	if def.CreatedAt.IsZero() {
		def.CreatedAt = time.Now().UTC()
	}
	return db.putObject(ctx, repo.CollectionTriggers, def.Name, def)
}

// DropTrigger implements sql.TriggerDatabase.
func (db *Database) DropTrigger(ctx *sql.Context, name string) error {
	_, ok, err := getObject[sql.TriggerDefinition](ctx, db, repo.CollectionTriggers, name)
	if err != nil {
		return err
	}
	if !ok {
		return sql.ErrTriggerDoesNotExist.New(name)
	}
	return db.putObject(ctx, repo.CollectionTriggers, name, nil)
}

// Stored procedures.

// GetStoredProcedure implements sql.StoredProcedureDatabase.
func (db *Database) GetStoredProcedure(ctx *sql.Context, name string) (sql.StoredProcedureDetails, bool, error) {
	return getObject[sql.StoredProcedureDetails](ctx, db, repo.CollectionProcedures, name)
}

// GetStoredProcedures implements sql.StoredProcedureDatabase.
func (db *Database) GetStoredProcedures(ctx *sql.Context) ([]sql.StoredProcedureDetails, error) {
	return listObjects[sql.StoredProcedureDetails](ctx, db, repo.CollectionProcedures)
}

// SaveStoredProcedure implements sql.StoredProcedureDatabase.
func (db *Database) SaveStoredProcedure(ctx *sql.Context, spd sql.StoredProcedureDetails) error {
	_, ok, err := getObject[sql.StoredProcedureDetails](ctx, db, repo.CollectionProcedures, spd.Name)
	if err != nil {
		return err
	}
	if ok {
		return sql.ErrStoredProcedureAlreadyExists.New(spd.Name)
	}
	spd.CreateStatement = stripVersionComments(spd.CreateStatement)
	return db.putObject(ctx, repo.CollectionProcedures, spd.Name, spd)
}

// DropStoredProcedure implements sql.StoredProcedureDatabase.
func (db *Database) DropStoredProcedure(ctx *sql.Context, name string) error {
	_, ok, err := getObject[sql.StoredProcedureDetails](ctx, db, repo.CollectionProcedures, name)
	if err != nil {
		return err
	}
	if !ok {
		return sql.ErrStoredProcedureDoesNotExist.New(name)
	}
	return db.putObject(ctx, repo.CollectionProcedures, name, nil)
}

// Events.

// GetEvent implements sql.EventDatabase.
func (db *Database) GetEvent(ctx *sql.Context, name string) (sql.EventDefinition, bool, error) {
	return getObject[sql.EventDefinition](ctx, db, repo.CollectionEvents, name)
}

// GetEvents implements sql.EventDatabase. The token is the root of the
// events collection.
func (db *Database) GetEvents(ctx *sql.Context) ([]sql.EventDefinition, interface{}, error) {
	evs, err := listObjects[sql.EventDefinition](ctx, db, repo.CollectionEvents)
	if err != nil {
		return nil, nil, err
	}
	root, err := db.root(ctx)
	if err != nil {
		return nil, nil, err
	}
	h, _ := root.Collection(repo.CollectionEvents)
	return evs, h, nil
}

// SaveEvent implements sql.EventDatabase.
func (db *Database) SaveEvent(ctx *sql.Context, ed sql.EventDefinition) (bool, error) {
	_, ok, err := getObject[sql.EventDefinition](ctx, db, repo.CollectionEvents, ed.Name)
	if err != nil {
		return false, err
	}
	if ok {
		return false, sql.ErrEventAlreadyExists.New(ed.Name)
	}
	return eventEnabled(ed), db.putObject(ctx, repo.CollectionEvents, ed.Name, ed)
}

func eventEnabled(ed sql.EventDefinition) bool {
	return strings.EqualFold(ed.Status, sql.EventStatus_Enable.String())
}

// DropEvent implements sql.EventDatabase.
func (db *Database) DropEvent(ctx *sql.Context, name string) error {
	_, ok, err := getObject[sql.EventDefinition](ctx, db, repo.CollectionEvents, name)
	if err != nil {
		return err
	}
	if !ok {
		return sql.ErrEventDoesNotExist.New(name)
	}
	return db.putObject(ctx, repo.CollectionEvents, name, nil)
}

// UpdateEvent implements sql.EventDatabase.
func (db *Database) UpdateEvent(ctx *sql.Context, originalName string, ed sql.EventDefinition) (bool, error) {
	_, ok, err := getObject[sql.EventDefinition](ctx, db, repo.CollectionEvents, originalName)
	if err != nil {
		return false, err
	}
	if !ok {
		return false, sql.ErrEventDoesNotExist.New(originalName)
	}
	if !strings.EqualFold(originalName, ed.Name) {
		if _, taken, err := getObject[sql.EventDefinition](ctx, db, repo.CollectionEvents, ed.Name); err != nil {
			return false, err
		} else if taken {
			return false, sql.ErrEventAlreadyExists.New(ed.Name)
		}
	}
	if err := db.putObject(ctx, repo.CollectionEvents, originalName, nil); err != nil {
		return false, err
	}
	return eventEnabled(ed), db.putObject(ctx, repo.CollectionEvents, ed.Name, ed)
}

// UpdateLastExecuted implements sql.EventDatabase.
func (db *Database) UpdateLastExecuted(ctx *sql.Context, name string, lastExecuted time.Time) error {
	ed, ok, err := getObject[sql.EventDefinition](ctx, db, repo.CollectionEvents, name)
	if err != nil {
		return err
	}
	if !ok {
		return sql.ErrEventDoesNotExist.New(name)
	}
	ed.LastExecuted = lastExecuted
	return db.putObject(ctx, repo.CollectionEvents, name, ed)
}

// NeedsToReloadEvents implements sql.EventDatabase: events changed if the
// collection's root differs from the token.
func (db *Database) NeedsToReloadEvents(ctx *sql.Context, token interface{}) (bool, error) {
	root, err := db.root(ctx)
	if err != nil {
		return false, err
	}
	h, _ := root.Collection(repo.CollectionEvents)
	old, _ := token.(chunk.Hash)
	return h != old, nil
}

// stripVersionComments removes MySQL version-comment wrappers (/*!50003 and
// the matching */) outside quoted text, keeping what they wrap.
func stripVersionComments(s string) string {
	if !strings.Contains(s, "/*!") {
		return s
	}
	var b strings.Builder
	depth := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			j := i + 1
			for j < len(s) {
				if s[j] == '\\' && c != '`' {
					j += 2
					continue
				}
				if s[j] == c {
					if j+1 < len(s) && s[j+1] == c {
						j += 2
						continue
					}
					break
				}
				j++
			}
			if j >= len(s) {
				j = len(s) - 1
			}
			b.WriteString(s[i : j+1])
			i = j
		case strings.HasPrefix(s[i:], "/*!"):
			j := i + 3
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			if j < len(s) && s[j] == ' ' {
				j++
			}
			depth++
			i = j - 1
		case depth > 0 && strings.HasPrefix(s[i:], "*/"):
			depth--
			i++
		case strings.HasPrefix(s[i:], "/*"):
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				b.WriteString(s[i:])
				return strings.TrimSpace(b.String())
			}
			b.WriteString(s[i : i+2+end+2])
			i += 2 + end + 1
		default:
			b.WriteByte(c)
		}
	}
	return strings.TrimSpace(b.String())
}
