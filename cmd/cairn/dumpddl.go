package main

import (
	"strconv"
	"strings"
)

// This file reads the DDL that cairn dump copies from SHOW CREATE …: a small
// lexer, the columns and foreign-key parents of a CREATE TABLE, and the
// rewrites of --compat mariadb.

// tokKind is the kind of a sqlToken.
type tokKind int

const (
	tokSpace   tokKind = iota
	tokComment         // -- …, # … and /* … */
	tokExec            // an executable comment: /*!NNNNN … */ or MariaDB's /*M!NNNNNN … */
	tokWord            // keywords, unquoted names, numbers
	tokIdent           // a `quoted name`
	tokString          // '…' or "…"
	tokPunct           // any other character
)

// sqlToken is a piece of SQL text; the texts of a statement's tokens, joined,
// are the statement.
type sqlToken struct {
	kind tokKind
	text string
}

// is reports whether t is the word w, in any case.
func (t sqlToken) is(w string) bool { return t.kind == tokWord && strings.EqualFold(t.text, w) }

// name returns the name a word or `quoted name` token stands for.
func (t sqlToken) name() string {
	if t.kind == tokIdent && len(t.text) >= 2 {
		return strings.ReplaceAll(t.text[1:len(t.text)-1], "``", "`")
	}
	return t.text
}

// lexSQL splits s into tokens as MySQL reads it: quotes with backslash
// escapes and doubled quote characters, comments, words. Text that ends
// inside a quote or comment is one last token.
func lexSQL(s string) []sqlToken {
	var toks []sqlToken
	for i := 0; i < len(s); {
		c := s[i]
		j := i + 1
		kind := tokPunct
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			kind = tokSpace
			for j < len(s) && strings.IndexByte(" \t\n\r", s[j]) >= 0 {
				j++
			}
		case c == '\'' || c == '"' || c == '`':
			kind = tokString
			if c == '`' {
				kind = tokIdent
			}
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
					j++
					break
				}
				j++
			}
			j = min(j, len(s))
		case c == '#' || c == '-' && strings.HasPrefix(s[i:], "-- "):
			kind = tokComment
			for j < len(s) && s[j] != '\n' {
				j++
			}
		case c == '/' && strings.HasPrefix(s[i:], "/*"):
			kind = tokComment
			if strings.HasPrefix(s[i:], "/*!") || strings.HasPrefix(s[i:], "/*M!") {
				kind = tokExec
			}
			if end := strings.Index(s[i+2:], "*/"); end >= 0 {
				j = i + 2 + end + 2
			} else {
				j = len(s)
			}
		case isWordByte(c):
			kind = tokWord
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
		}
		toks = append(toks, sqlToken{kind, s[i:j]})
		i = j
	}
	return toks
}

func isWordByte(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// joinTokens returns the text of toks.
func joinTokens(toks []sqlToken) string {
	var b strings.Builder
	for _, t := range toks {
		b.WriteString(t.text)
	}
	return b.String()
}

// significant reports whether t is more than space or a comment.
func significant(t sqlToken) bool { return t.kind != tokSpace && t.kind != tokComment }

// nextSignificant returns the index of the first significant token of toks
// at or after i, or len(toks).
func nextSignificant(toks []sqlToken, i int) int {
	for i < len(toks) && !significant(toks[i]) {
		i++
	}
	return i
}

// tableElement is a column, index or constraint of a CREATE TABLE: the
// tokens [start, end), without the spaces around them.
type tableElement struct{ start, end int }

// tableElements returns the elements of the CREATE TABLE statement toks and
// the positions of the parentheses around them, or ok false if toks has no
// such list.
func tableElements(toks []sqlToken) (elems []tableElement, open, close int, ok bool) {
	open = -1
	depth := 0
	start := -1
	for i, t := range toks {
		if t.kind != tokPunct {
			if depth == 1 && start < 0 && significant(t) {
				start = i
			}
			continue
		}
		switch t.text {
		case "(":
			depth++
			if depth == 1 && open < 0 {
				open = i
				continue
			}
		case ")":
			depth--
		}
		if depth == 1 && start < 0 {
			start = i
		}
		if depth == 1 && t.text == "," || depth == 0 && open >= 0 {
			if start >= 0 && start < i {
				end := i
				for end > start && !significant(toks[end-1]) {
					end--
				}
				elems = append(elems, tableElement{start, end})
			}
			start = -1
			if depth == 0 {
				return elems, open, i, true
			}
		}
	}
	return nil, 0, 0, false
}

// dumpColumn is a column of a dumped table.
type dumpColumn struct {
	name string
	// typ is the type's name in lower case: int, varchar, enum, …
	typ string
	// generated columns are computed from the others: no dump holds them.
	generated bool
}

// valueKind says how a column's values are written.
type valueKind int

const (
	kindString valueKind = iota // quoted with escapes
	kindNumber                  // as they are
	kindBinary                  // bytes: 0x… in SQL, hexadecimal in JSON, raw in CSV
)

// kind returns how c's values are written.
func (c dumpColumn) kind() valueKind {
	switch c.typ {
	case "tinyint", "smallint", "mediumint", "int", "integer", "bigint",
		"decimal", "numeric", "float", "double", "real", "year":
		return kindNumber
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob", "bit",
		"geometry", "point", "linestring", "polygon", "multipoint", "multilinestring",
		"multipolygon", "geometrycollection", "geomcollection":
		return kindBinary
	}
	return kindString
}

// parseCreateTable returns the columns of the CREATE TABLE statement stmt
// (SHOW CREATE TABLE's text) and the tables its foreign keys reference in
// the database db (those in other databases are left out).
func parseCreateTable(stmt, db string) (cols []dumpColumn, parents []string) {
	toks := lexSQL(stmt)
	elems, _, _, ok := tableElements(toks)
	if !ok {
		return nil, nil
	}
	for _, el := range elems {
		part := toks[el.start:el.end]
		first := part[0]
		switch {
		case first.kind == tokIdent:
			col := dumpColumn{name: first.name()}
			if i := nextSignificant(part, 1); i < len(part) && part[i].kind == tokWord {
				col.typ = strings.ToLower(part[i].text)
			}
			depth := 0
			for _, t := range part {
				switch {
				case t.kind == tokPunct && t.text == "(":
					depth++
				case t.kind == tokPunct && t.text == ")":
					depth--
				case depth == 0 && t.is("GENERATED"):
					col.generated = true
				}
			}
			cols = append(cols, col)
		case first.is("CONSTRAINT") || first.is("FOREIGN"):
			if p, ok := referencedTable(part, db); ok {
				parents = append(parents, p)
			}
		}
	}
	return cols, parents
}

// referencedTable returns the table after REFERENCES in the foreign-key
// definition toks, if it is in the database db.
func referencedTable(toks []sqlToken, db string) (string, bool) {
	for i, t := range toks {
		if !t.is("REFERENCES") {
			continue
		}
		var names []string
		for j := nextSignificant(toks, i+1); j < len(toks); j = nextSignificant(toks, j+1) {
			switch {
			case toks[j].kind == tokIdent || toks[j].kind == tokWord:
				names = append(names, toks[j].name())
				continue
			case toks[j].kind == tokPunct && toks[j].text == ".":
				continue
			}
			break
		}
		switch {
		case len(names) == 1:
			return names[0], true
		case len(names) == 2 && strings.EqualFold(names[0], db):
			return names[1], true
		}
		return "", false
	}
	return "", false
}

// referencedNames returns the names (lower case) that the words and
// `quoted names` of stmt could refer to: what views may use of each other.
func referencedNames(stmt string) map[string]bool {
	names := map[string]bool{}
	for _, t := range lexSQL(stmt) {
		if t.kind == tokWord || t.kind == tokIdent {
			names[strings.ToLower(t.name())] = true
		}
	}
	return names
}

// triggerOrderRef returns the trigger named by FOLLOWS or PRECEDES in the
// CREATE TRIGGER statement stmt, if any.
func triggerOrderRef(stmt string) (string, bool) {
	toks := lexSQL(stmt)
	for i := nextSignificant(toks, 0); i < len(toks); i = nextSignificant(toks, i+1) {
		if !toks[i].is("ROW") {
			continue
		}
		// FOR EACH ROW, then the order, then the body.
		j := nextSignificant(toks, i+1)
		if j < len(toks) && (toks[j].is("FOLLOWS") || toks[j].is("PRECEDES")) {
			if k := nextSignificant(toks, j+1); k < len(toks) && (toks[k].kind == tokIdent || toks[k].kind == tokWord) {
				return toks[k].name(), true
			}
		}
		break
	}
	return "", false
}

// stripEmptyDefiner removes a DEFINER clause naming the empty user at the
// empty host from stmt: cairn writes it for objects made by sessions without
// a user, and a server loading the dump would make the anonymous user their
// definer.
func stripEmptyDefiner(stmt string) string {
	toks := lexSQL(stmt)
	for i, t := range toks {
		if !t.is("DEFINER") {
			continue
		}
		j := nextSignificant(toks, i+1)
		parts := []string{"=", "``", "@", "``"}
		for _, p := range parts {
			if j >= len(toks) || toks[j].text != p {
				return stmt
			}
			j = nextSignificant(toks, j+1)
		}
		return joinTokens(toks[:i]) + joinTokens(toks[j:])
	}
	return stmt
}

// mariadbLanguages maps the language codes of MySQL's utf8mb4_LL_0900_…
// collations to the names MariaDB's UCA 14.0 collations use. Languages
// missing here get MariaDB's root collation; those whose MySQL rules equal
// another language's get that one (Norwegian: Danish; Bosnian and Serbian
// in Latin script: Croatian; Galician: Spanish).
var mariadbLanguages = map[string]string{
	"cs": "czech", "da": "danish", "de_pb": "german2", "eo": "esperanto", "es": "spanish",
	"es_trad": "spanish2", "et": "estonian", "hr": "croatian", "hu": "hungarian",
	"is": "icelandic", "la": "roman", "lt": "lithuanian", "lv": "latvian", "pl": "polish",
	"ro": "romanian", "sk": "slovak", "sl": "slovenian", "sv": "swedish", "tr": "turkish",
	"vi": "vietnamese", "nb": "danish", "nn": "danish", "bs": "croatian", "sr_latn": "croatian",
	"gl": "spanish",
}

// mariadbCollation returns the MariaDB 10.11 collation that stands for the
// MySQL collation name, if MariaDB lacks it. MySQL's utf8mb4_…_0900_…
// collations are UCA 9.0.0 and NO PAD: their counterparts are MariaDB's
// UCA 14.0.0 NO PAD collations with the same accent and case sensitivity
// (what MariaDB 11.4.5 made them aliases of), and utf8mb4_nopad_bin for
// utf8mb4_0900_bin.
func mariadbCollation(name string) (string, bool) {
	lower := strings.ToLower(name)
	switch lower {
	case "utf8mb4_0900_bin":
		return "utf8mb4_nopad_bin", true
	case "utf8mb3_tolower_ci":
		return "utf8mb3_general_ci", true
	}
	rest, ok := strings.CutPrefix(lower, "utf8mb4_")
	i := strings.Index(rest, "0900_")
	if !ok || i < 0 || i > 0 && rest[i-1] != '_' {
		return "", false
	}
	lang := strings.TrimSuffix(rest[:i], "_")
	sens := rest[i+len("0900_"):]
	switch sens {
	case "ai_ci", "as_ci", "as_cs":
	case "as_cs_ks": // Japanese kana-sensitive: nearest is as_cs
		sens = "as_cs"
	default:
		return "", false
	}
	out := "utf8mb4_uca1400_"
	if l := mariadbLanguages[lang]; l != "" {
		out += l + "_"
	}
	return out + "nopad_" + sens, true
}

// execCommentVersion returns the server version of an executable comment
// (/*!80016 … → 80016) and its body, or ok false for MariaDB's /*M!…
// comments and those without a version.
func execCommentVersion(text string) (version int, body string, ok bool) {
	rest, found := strings.CutPrefix(text, "/*!")
	if !found {
		return 0, "", false
	}
	rest = strings.TrimSuffix(rest, "*/")
	n := 0
	for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
		n++
	}
	if n < 5 {
		return 0, "", false
	}
	v, err := strconv.Atoi(rest[:n])
	if err != nil {
		return 0, "", false
	}
	return v, rest[n:], true
}

// isMySQL8Only reports whether an executable comment is for MySQL 8 and
// later (versions 80000 to 99999). MariaDB, whose versions are 100000 and up,
// runs such comments and fails on the MySQL-only syntax inside.
func isMySQL8Only(version int) bool { return version >= 80000 && version < 100000 }

// compatMariaDB rewrites a statement cairn printed (SHOW CREATE …) so that
// MariaDB 10.11 runs it: collations it lacks become their nearest
// counterparts (mariadbCollation), and executable comments meant for MySQL
// 8 become plain comments, which MariaDB ignores as MySQL before 8 would.
// In a CREATE TABLE, a column's /*!80003 SRID n */ becomes MariaDB's
// REF_SYSTEM_ID=n after the type, and a CHECK constraint cairn does not
// enforce (/*!80016 NOT ENFORCED */, which MariaDB lacks) is left out, so
// rows that break it still load.
func compatMariaDB(stmt string) string {
	toks := lexSQL(stmt)
	if len(toks) > 0 {
		if first := toks[nextSignificant(toks, 0)]; first.is("CREATE") {
			if i := nextSignificant(toks, nextSignificant(toks, 0)+1); i < len(toks) && toks[i].is("TABLE") {
				toks = compatTableElements(toks)
			}
		}
	}
	for i, t := range toks {
		switch t.kind {
		case tokWord:
			if c, ok := mariadbCollation(t.text); ok {
				toks[i].text = c
			}
		case tokExec:
			v, body, ok := execCommentVersion(t.text)
			switch {
			case !ok:
			case isMySQL8Only(v):
				toks[i].text = "/*" + body + "*/"
			default:
				toks[i].text = t.text[:len(t.text)-len(body)-len("*/")] + compatMariaDB(body) + "*/"
			}
		}
	}
	return joinTokens(toks)
}

// compatTableElements applies the per-column and per-constraint rewrites
// of compatMariaDB to the CREATE TABLE statement toks.
func compatTableElements(toks []sqlToken) []sqlToken {
	elems, _, _, ok := tableElements(toks)
	if !ok {
		return toks
	}
	drop := make([]bool, len(elems))
	for e, el := range elems {
		part := toks[el.start:el.end]
		for i, t := range part {
			if t.kind != tokExec {
				continue
			}
			v, body, ok := execCommentVersion(t.text)
			if !ok || !isMySQL8Only(v) {
				continue
			}
			words := strings.Fields(strings.ToUpper(body))
			switch {
			case len(words) == 2 && words[0] == "NOT" && words[1] == "ENFORCED":
				drop[e] = true
			case len(words) == 2 && words[0] == "SRID" && part[0].kind == tokIdent:
				// REF_SYSTEM_ID must follow the type at once.
				typ := nextSignificant(part, 1)
				if typ >= i {
					continue
				}
				part[i] = sqlToken{tokSpace, ""}
				part[typ].text += " REF_SYSTEM_ID=" + words[1]
				if i > 0 && part[i-1].kind == tokSpace {
					part[i-1].text = ""
				}
			}
		}
	}
	// Drop an element with the comma before it (the first one, with the
	// comma after it).
	var out []sqlToken
	pos := 0
	for e, el := range elems {
		if !drop[e] {
			continue
		}
		from, to := el.start, el.end
		switch {
		case e > 0:
			from = elems[e-1].end
		case e+1 < len(elems):
			to = elems[e+1].start
		}
		if from < pos {
			from = pos // the previous element was dropped too
		}
		out = append(out, toks[pos:from]...)
		pos = to
	}
	return append(out, toks[pos:]...)
}
