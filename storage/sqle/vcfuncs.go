package sqle

import (
	"errors"
	"fmt"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/types"
)

// Version-control functions, as Dolt names them.
var vcFunctions = []sql.Function{
	sql.Function0{Name: "active_branch", Fn: func() sql.Expression { return activeBranchFunc{} }},
	sql.Function1{Name: "hashof", Fn: func(e sql.Expression) sql.Expression {
		return &hashOfFunc{expression.UnaryExpression{Child: e}, "hashof"}
	}},
	sql.Function1{Name: "dolt_hashof", Fn: func(e sql.Expression) sql.Expression {
		return &hashOfFunc{expression.UnaryExpression{Child: e}, "dolt_hashof"}
	}},
}

// activeBranchFunc is ACTIVE_BRANCH(): the branch the current database
// works on in this session; NULL with no current database or on a
// database as of a tag or commit.
type activeBranchFunc struct{}

var (
	_ sql.Expression                 = activeBranchFunc{}
	_ sql.NonDeterministicExpression = activeBranchFunc{}
)

func (activeBranchFunc) Resolved() bool             { return true }
func (activeBranchFunc) String() string             { return "active_branch()" }
func (activeBranchFunc) Type() sql.Type             { return types.Text }
func (activeBranchFunc) IsNullable() bool           { return true }
func (activeBranchFunc) Children() []sql.Expression { return nil }
func (activeBranchFunc) IsNonDeterministic() bool   { return true }
func (f activeBranchFunc) WithChildren(c ...sql.Expression) (sql.Expression, error) {
	if len(c) != 0 {
		return nil, sql.ErrInvalidChildrenNumber.New(f, len(c), 0)
	}
	return f, nil
}

func (activeBranchFunc) Eval(ctx *sql.Context, _ sql.Row) (any, error) {
	s, ok := ctx.Session.(*Session)
	db := ctx.GetCurrentDatabase()
	if !ok || db == "" {
		return nil, nil
	}
	b, err := s.ActiveBranch(ctx, db)
	if err != nil {
		if sql.ErrDatabaseNotFound.Is(err) {
			return nil, nil // not a cairn database (information_schema)
		}
		return nil, err
	}
	if b == "" {
		return nil, nil
	}
	return b, nil
}

// errInvalidRefSpec is Dolt's error for a revision HASHOF cannot resolve.
var errInvalidRefSpec = errors.New("invalid ref spec")

// hashOfFunc is HASHOF(rev) and DOLT_HASHOF(rev): the hash of the commit a
// revision names (HEAD, a branch, a tag, a hash, with ~N and ^N) in the
// current database.
type hashOfFunc struct {
	expression.UnaryExpression
	name string
}

var _ sql.NonDeterministicExpression = (*hashOfFunc)(nil)

func (f *hashOfFunc) String() string           { return fmt.Sprintf("%s(%s)", f.name, f.Child) }
func (f *hashOfFunc) Type() sql.Type           { return types.Text }
func (f *hashOfFunc) IsNonDeterministic() bool { return true }
func (f *hashOfFunc) WithChildren(c ...sql.Expression) (sql.Expression, error) {
	if len(c) != 1 {
		return nil, sql.ErrInvalidChildrenNumber.New(f, len(c), 1)
	}
	return &hashOfFunc{expression.UnaryExpression{Child: c[0]}, f.name}, nil
}

func (f *hashOfFunc) Eval(ctx *sql.Context, row sql.Row) (any, error) {
	v, err := f.Child.Eval(ctx, row)
	if err != nil || v == nil {
		return nil, err
	}
	rev, _, err := types.LongText.Convert(ctx, v)
	if err != nil {
		return nil, err
	}
	s, err := sessionOf(ctx)
	if err != nil {
		return nil, err
	}
	vc, err := s.prov.OpenVC(ctx, ctx.GetCurrentDatabase())
	if err != nil {
		return nil, err
	}
	h, err := vc.Repo().Resolve(ctx, rev.(string), vc.Branch())
	if err != nil {
		return nil, errInvalidRefSpec
	}
	return h.String(), nil
}
