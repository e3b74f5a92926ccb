package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// defaultDelimiter ends statements until a DELIMITER command changes it.
const defaultDelimiter = ";"

// splitStatements reads a SQL script as the mysql client reads its input and
// calls fn with each statement, without its delimiter and the spaces around
// it, and the line (from 1) it starts on. An error from fn stops the reading
// and is returned as it is.
//
// A statement ends at the delimiter, ";" at first, outside quotes ('…', "…"
// and `…`, the first two with backslash escapes, all with doubled quotes) and
// comments. Comments (-- to the end of the line, # to the end of the line,
// /* … */) are left out of the statements; executable comments (/*! … */,
// MariaDB's /*M! … */) and optimizer hints (/*+ … */) are part of them, as the
// server reads them, and a delimiter inside one ends nothing. MariaDB's
// /*!999999\- enable the sandbox mode */ is a comment: cairn runs no shell
// commands to disable. Statements holding only spaces are skipped.
//
// A line "DELIMITER xx" (any case) that starts where no statement is pending
// (at the start of a line or right after a statement ended) makes xx the
// delimiter; the rest of the line is ignored. mariadb-dump and mysqldump
// write DELIMITER ;; around triggers and routines, whose bodies hold ';'.
// Other mysql client commands (\g, \G, source, use, …) are not recognized.
//
// A script ending inside a quote or comment gives an error naming the line it
// started on; a final statement without a delimiter is passed to fn.
func splitStatements(r io.Reader, fn func(stmt string, line int) error) error {
	sp := splitter{delim: defaultDelimiter, fn: fn}
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if len(line) > 0 {
			sp.lineNo++
			if sp.lineNo == 1 {
				line = strings.TrimPrefix(line, "\uFEFF")
			}
			if err := sp.scanLine(line); err != nil {
				return err
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read script: %w", err)
		}
	}
	switch sp.state {
	case inQuote:
		return fmt.Errorf("line %d: unterminated %c quote", sp.openLine, sp.quote)
	case inComment, inExecComment:
		return fmt.Errorf("line %d: unterminated /* comment", sp.openLine)
	}
	return sp.flush()
}

// scanState is where in the text a splitter is.
type scanState int

const (
	inText        scanState = iota
	inQuote                 // in a quoted string or identifier
	inComment               // in a /* */ comment, left out
	inLineComment           // in a -- or # comment, to the end of the line
	inExecComment           // in a /*! */ or /*+ */ comment, kept
)

// splitter is the state of splitStatements between lines.
type splitter struct {
	delim  string
	fn     func(stmt string, line int) error
	lineNo int

	state    scanState
	quote    byte // the open quote in inQuote, or in inExecComment if not 0
	openLine int  // the line the open quote or comment started on

	stmt      strings.Builder
	stmtLine  int  // the line the pending statement started on, 0 if none
	atCommand bool // only spaces since the line start or the last statement's end
}

// scanLine scans one line, with its line end if it has one.
func (sp *splitter) scanLine(line string) error {
	sp.atCommand = true
	for i := 0; i < len(line); {
		c := line[i]
		switch sp.state {
		case inLineComment:
			if c == '\n' {
				sp.state = inText
				sp.add("\n")
			}
			i++

		case inComment:
			if strings.HasPrefix(line[i:], "*/") {
				sp.state = inText
				i += 2
			} else {
				i++
			}

		case inQuote:
			sp.add(line[i : i+1])
			i++
			switch {
			case c == '\\' && sp.quote != '`' && i < len(line):
				sp.add(line[i : i+1])
				i++
			case c == sp.quote:
				sp.state = inText
			}

		case inExecComment:
			switch {
			case sp.quote != 0:
				sp.add(line[i : i+1])
				i++
				if c == '\\' && sp.quote != '`' && i < len(line) {
					sp.add(line[i : i+1])
					i++
				} else if c == sp.quote {
					sp.quote = 0
				}
			case strings.HasPrefix(line[i:], "*/"):
				sp.add("*/")
				sp.state = inText
				i += 2
			default:
				if c == '\'' || c == '"' || c == '`' {
					sp.quote = c
				}
				sp.add(line[i : i+1])
				i++
			}

		case inText:
			rest := line[i:]
			switch {
			case sp.atCommand && sp.stmtLine == 0 && isDelimiterCommand(rest):
				d, err := parseDelimiter(rest)
				if err != nil {
					return fmt.Errorf("line %d: %w", sp.lineNo, err)
				}
				sp.delim = d
				return nil
			case strings.HasPrefix(rest, sp.delim):
				if err := sp.flush(); err != nil {
					return err
				}
				sp.atCommand = true
				i += len(sp.delim)
			case c == '\'' || c == '"' || c == '`':
				sp.open(inQuote, c)
				sp.begin(rest[:1])
				i++
			case c == '#' || strings.HasPrefix(rest, "--") && (len(rest) == 2 || rest[2] <= ' '):
				sp.state = inLineComment
				sp.atCommand = false
			case strings.HasPrefix(rest, "/*!999999\\-"):
				sp.open(inComment, 0)
				i += 2
			case strings.HasPrefix(rest, "/*!") || strings.HasPrefix(rest, "/*+") || strings.HasPrefix(rest, "/*M!"):
				sp.open(inExecComment, 0)
				sp.begin("/*")
				i += 2
			case strings.HasPrefix(rest, "/*"):
				sp.open(inComment, 0)
				// Keep the tokens on either side apart: SELECT/**/1.
				if s := sp.stmt.String(); s != "" && !isSpace(s[len(s)-1]) {
					sp.add(" ")
				}
				i += 2
			case isSpace(c):
				if sp.stmtLine != 0 {
					sp.add(rest[:1])
				}
				i++
			default:
				sp.begin(rest[:1])
				i++
			}
		}
	}
	return nil
}

// open enters state s at a quote or comment that starts on this line.
func (sp *splitter) open(s scanState, quote byte) {
	sp.state, sp.quote, sp.openLine = s, quote, sp.lineNo
	sp.atCommand = false
}

// begin adds text that is part of a statement, starting one if none is
// pending.
func (sp *splitter) begin(text string) {
	if sp.stmtLine == 0 {
		sp.stmtLine = sp.lineNo
	}
	sp.atCommand = false
	sp.add(text)
}

// add adds text to the pending statement, if there is one.
func (sp *splitter) add(text string) {
	if sp.stmtLine != 0 {
		sp.stmt.WriteString(text)
	}
}

// flush passes the pending statement, if any, to fn.
func (sp *splitter) flush() error {
	stmt, line := strings.TrimSpace(sp.stmt.String()), sp.stmtLine
	sp.stmt.Reset()
	sp.stmtLine = 0
	if stmt == "" {
		return nil
	}
	return sp.fn(stmt, line)
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// isDelimiterCommand reports whether s starts with the word DELIMITER, in any
// case, followed by a space or the end of the line.
func isDelimiterCommand(s string) bool {
	const word = "delimiter"
	return len(s) >= len(word) && strings.EqualFold(s[:len(word)], word) &&
		(len(s) == len(word) || isSpace(s[len(word)]))
}

// parseDelimiter returns the new delimiter a DELIMITER command sets: its
// first word, or a quoted string.
func parseDelimiter(cmd string) (string, error) {
	arg := strings.TrimLeft(cmd[len("delimiter"):], " \t\f\v")
	var d string
	if arg != "" && (arg[0] == '\'' || arg[0] == '"' || arg[0] == '`') {
		end := strings.IndexByte(arg[1:], arg[0])
		if end < 0 {
			return "", errors.New("DELIMITER: unterminated quote")
		}
		d = arg[1 : 1+end]
	} else {
		d = arg
		if end := strings.IndexFunc(arg, func(r rune) bool { return r < 0x80 && isSpace(byte(r)) }); end >= 0 {
			d = arg[:end]
		}
	}
	switch {
	case d == "":
		return "", errors.New("DELIMITER must be followed by a delimiter")
	case strings.ContainsRune(d, '\\'):
		return "", errors.New("DELIMITER cannot contain a backslash")
	}
	return d, nil
}
