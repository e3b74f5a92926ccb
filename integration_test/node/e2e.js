'use strict';
// End-to-end check of cairn with Node's mysql2 driver (promise API), run by
// integration_test/node_test.go against a fresh server:
//
//   CAIRN_HOST=127.0.0.1 CAIRN_PORT=3306 node e2e.js
//
// CAIRN_USER and CAIRN_PASSWORD default to root and the empty password.
// Every step checks its results with node:assert and the script exits 1 at
// the first failure, naming the step. Where cairn is known to answer
// differently from MySQL 8, the step accepts MySQL's answer or cairn's
// known one (anything else fails) and prints a "KNOWN DIFFERENCE" line, so
// the list stays accurate as cairn gets closer to MySQL.

const assert = require('node:assert/strict');
const { isDeepStrictEqual } = require('node:util');
const mysql = require('mysql2/promise');

const config = {
  host: process.env.CAIRN_HOST || '127.0.0.1',
  port: Number(process.env.CAIRN_PORT || 3306),
  user: process.env.CAIRN_USER || 'root',
  password: process.env.CAIRN_PASSWORD || '',
  timezone: 'Z', // DATETIME values are UTC on both sides
  connectTimeout: 10000,
};
const DB = 'node_e2e';

let currentStep = '(start)';
const differences = [];

async function step(name, fn) {
  currentStep = name;
  const start = Date.now();
  await fn();
  console.log(`ok   ${name} (${Date.now() - start} ms)`);
}

// known compares what cairn answered with what MySQL 8 answers and what
// cairn is known to answer instead. MySQL's answer passes silently (and is
// reported, so the difference can be taken off the list); cairn's known
// one passes with a KNOWN DIFFERENCE line; anything else fails.
function known(what, actual, mysqlAnswer, cairnAnswer) {
  if (isDeepStrictEqual(actual, mysqlAnswer)) {
    console.log(`note ${what}: now answers as MySQL does (${show(actual)}); take it off the known differences`);
    return;
  }
  assert.deepStrictEqual(actual, cairnAnswer,
    `${what}: got ${show(actual)}; MySQL answers ${show(mysqlAnswer)}, cairn was known to answer ${show(cairnAnswer)}`);
  const line = `KNOWN DIFFERENCE ${what}: cairn ${show(actual)}, MySQL ${show(mysqlAnswer)}`;
  differences.push(line);
  console.log(line);
}

function show(v) {
  if (Buffer.isBuffer(v)) return `Buffer<${v.toString('hex')}>`;
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'bigint') return `${v}n`;
  try {
    return JSON.stringify(v, (k, x) => (typeof x === 'bigint' ? `${x}n` : x));
  } catch {
    return String(v);
  }
}

// rejects runs p, which must fail, and returns its error.
async function rejects(p, what) {
  try {
    await p;
  } catch (err) {
    return err;
  }
  assert.fail(`${what}: succeeded, expected an error`);
}

// errorOf returns what a client sees of a server error.
function errorOf(err) {
  return { code: err.code, errno: err.errno, sqlState: err.sqlState, message: err.sqlMessage };
}

// fieldTypes maps each result column's name to its MySQL type code.
function fieldTypes(fields) {
  return Object.fromEntries(fields.map((f) => [f.name, f.columnType]));
}

const T = { DECIMAL: 246, TINY: 1, LONG: 3, FLOAT: 4, DOUBLE: 5, LONGLONG: 8, DATE: 10, DATETIME: 12, BIT: 16, JSON: 245, BLOB: 252, VAR_STRING: 253 };

// withTimeout fails if p takes longer than ms (a desynchronized connection
// may never answer).
function withTimeout(p, ms, what) {
  let timer;
  return Promise.race([
    p,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function main() {
  assert.ok(config.port > 0, 'CAIRN_PORT must be set');
  let conn;

  await step('connect', async () => {
    conn = await mysql.createConnection(config);
    await conn.ping();
    const [rows] = await conn.query('SELECT VERSION() AS v, CURRENT_USER() AS u, 1 + 1 AS two');
    assert.match(rows[0].v, /^8\./, 'VERSION() should look like MySQL 8');
    assert.equal(rows[0].u.split('@')[0], config.user);
    assert.equal(rows[0].two, 2);
  });

  await step('create database and table', async () => {
    await conn.query(`DROP DATABASE IF EXISTS ${DB}`);
    await conn.query(`CREATE DATABASE ${DB}`);
    await conn.query(`USE ${DB}`);
    const [rows] = await conn.query('SELECT DATABASE() AS db');
    assert.equal(rows[0].db, DB);
    await conn.query(`CREATE TABLE items (
      id INT AUTO_INCREMENT PRIMARY KEY,
      name VARCHAR(40) NOT NULL,
      qty INT,
      price DECIMAL(10,2),
      added DATETIME(3),
      day DATE,
      data VARBINARY(300),
      big BIGINT,
      doc JSON,
      UNIQUE KEY name_uq (name)
    )`);
    const [tables] = await conn.query('SHOW TABLES');
    assert.deepEqual(tables.map((r) => Object.values(r)[0]), ['items']);
  });

  await step('plain queries', async () => {
    // query() interpolates the parameters on the client side.
    let [res] = await conn.query('INSERT INTO items (name, qty, price) VALUES (?, ?, ?), (?, ?, ?), (?, ?, ?)',
      ['apple', 3, '1.50', 'pear', 5, '2.25', "o'range", 7, '0.99']);
    assert.equal(res.affectedRows, 3);
    assert.equal(res.insertId, 1, 'insertId of a multi-row INSERT is the first id');

    let [rows, fields] = await conn.query('SELECT id, name, qty, price FROM items ORDER BY id');
    assert.deepEqual(rows, [
      { id: 1, name: 'apple', qty: 3, price: '1.50' },
      { id: 2, name: 'pear', qty: 5, price: '2.25' },
      { id: 3, name: "o'range", qty: 7, price: '0.99' },
    ]);
    assert.deepEqual(fieldTypes(fields), { id: T.LONG, name: T.VAR_STRING, qty: T.LONG, price: T.DECIMAL });
    assert.equal(fields[0].table, 'items');
    assert.equal(fields[3].decimals, 2);

    [res] = await conn.query('UPDATE items SET qty = qty + 1 WHERE qty > ?', [4]);
    assert.equal(res.affectedRows, 2); // mysql2 sets CLIENT_FOUND_ROWS: matched rows
    assert.equal(res.changedRows, 2);
    known('OK packet info after UPDATE', res.info,
      'Rows matched: 2  Changed: 2  Warnings: 0', '#Rows matched: 2  Changed: 2  Warnings: 0');
    [res] = await conn.query('UPDATE items SET qty = 6 WHERE name = ?', ['pear']);
    assert.equal(res.affectedRows, 1);
    assert.equal(res.changedRows, 0, 'UPDATE to the same value changes no row');

    [res] = await conn.query('DELETE FROM items WHERE name = ?', ["o'range"]);
    assert.equal(res.affectedRows, 1);
    [rows] = await conn.query('SELECT COUNT(*) AS n, MAX(qty) AS mx, MIN(name) AS mn FROM items');
    assert.deepEqual(rows, [{ n: 2, mx: 6, mn: 'apple' }]);

    // Rows as arrays.
    [rows] = await conn.query({ sql: 'SELECT id, name FROM items ORDER BY id', rowsAsArray: true });
    assert.deepEqual(rows, [[1, 'apple'], [2, 'pear']]);

    // Values as MySQL types them in the text protocol.
    [rows, fields] = await conn.query(
      "SELECT 1 + 1 AS two, 1 / 4 AS quarter, 2.5 * 2 AS dec5, 'x' AS s, NULL AS n, CAST('2024-02-29' AS DATE) AS d, 1.5e0 AS dbl");
    assert.deepEqual(rows[0], { two: 2, quarter: '0.2500', dec5: '5.0', s: 'x', n: null, d: new Date('2024-02-29T00:00:00Z'), dbl: 1.5 });
    assert.equal(fields[0].columnType, T.LONGLONG);
    assert.equal(fields[1].columnType, T.DECIMAL);
    assert.equal(fields[6].columnType, T.DOUBLE);
  });

  await step('prepared statements with typed parameters', async () => {
    const added = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678));
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i)); // every byte value, 0x00 and 0xff too
    const doc = { tags: ['a', 'b'], n: 1, nested: { ok: true } };
    // execute() prepares on the server (COM_STMT_PREPARE) and sends the
    // parameters in the binary protocol: numbers as DOUBLE, strings,
    // NULL, Date as DATETIME, Buffer as BLOB, objects as JSON, BigInt as a
    // string.
    const ins = 'INSERT INTO items (name, qty, price, added, day, data, big, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)';
    let [res] = await conn.execute(ins, ['kiwi 🥝 ü', 42, '12345678.91', added, '2024-02-29', bytes, 9007199254740993n, doc]);
    assert.equal(res.affectedRows, 1);
    const kiwi = res.insertId;
    assert.ok(kiwi > 2, `insertId ${kiwi}`);
    [res] = await conn.execute(ins, ['nulls', null, null, null, null, null, null, null]);
    const nulls = res.insertId;
    [res] = await conn.execute(ins, ['fraction', 7, 19.99, added, new Date(Date.UTC(2023, 11, 31)), Buffer.alloc(0), -5, [1, 'two']]);
    const fraction = res.insertId;

    const sel = 'SELECT id, name, qty, price, added, day, data, big, doc FROM items WHERE id = ?';
    const opts = { supportBigNumbers: true, bigNumberStrings: true };
    let [rows, fields] = await conn.execute({ sql: sel, ...opts }, [kiwi]);
    assert.deepEqual(rows, [{
      id: kiwi, name: 'kiwi 🥝 ü', qty: 42, price: '12345678.91', added, day: new Date('2024-02-29T00:00:00Z'),
      data: bytes, big: '9007199254740993', doc,
    }]);
    assert.deepEqual(fieldTypes(fields), {
      id: T.LONG, name: T.VAR_STRING, qty: T.LONG, price: T.DECIMAL, added: T.DATETIME, day: T.DATE,
      data: T.VAR_STRING, big: T.LONGLONG, doc: T.JSON,
    });
    // The same row through the text protocol.
    const [textRows] = await conn.query({ sql: sel, ...opts }, [kiwi]);
    assert.deepEqual(textRows, rows);

    [rows] = await conn.execute(sel, [nulls]);
    assert.deepEqual(rows, [{ id: nulls, name: 'nulls', qty: null, price: null, added: null, day: null, data: null, big: null, doc: null }]);
    [rows] = await conn.execute(sel, [fraction]);
    assert.deepEqual(rows[0].price, '19.99');
    assert.deepEqual(rows[0].day, new Date('2023-12-31T00:00:00Z'));
    assert.deepEqual(rows[0].data, Buffer.alloc(0));
    assert.equal(rows[0].big, -5);
    assert.deepEqual(rows[0].doc, [1, 'two']);

    // A statement prepared once, executed with several parameter sets.
    const stmt = await conn.prepare('SELECT name FROM items WHERE qty >= ? AND name <> ? ORDER BY name');
    assert.equal(stmt.statement.parameters.length, 2, "parameter count of the prepared statement");
    [rows] = await stmt.execute([5, 'x']);
    assert.deepEqual(rows.map((r) => r.name), ['fraction', 'kiwi 🥝 ü', 'pear']);
    [rows] = await stmt.execute([7, 'fraction']);
    assert.deepEqual(rows.map((r) => r.name), ['kiwi 🥝 ü']);
    await stmt.close();

    // Comparisons with each parameter type.
    [rows] = await conn.execute('SELECT id FROM items WHERE added = ? AND data = ? AND price = ?', [added, bytes, '12345678.91']);
    assert.deepEqual(rows, [{ id: kiwi }]);
    [rows] = await conn.execute('SELECT COUNT(*) AS n FROM items WHERE qty IS NULL OR qty = ?', [null]);
    assert.deepEqual(rows, [{ n: 1 }]);
    [rows] = await conn.execute('SELECT ? AS i, ? AS s, ? AS n', [7, 'seven', null]);
    assert.deepEqual(rows, [{ i: 7, s: 'seven', n: null }]);
  });

  await step('transactions: commit and rollback', async () => {
    const other = await mysql.createConnection({ ...config, database: DB });
    try {
      await conn.beginTransaction();
      await conn.execute('INSERT INTO items (name, qty) VALUES (?, ?)', ['committed', 1]);
      let [rows] = await other.query("SELECT COUNT(*) AS n FROM items WHERE name = 'committed'");
      assert.equal(rows[0].n, 0, 'an uncommitted row is not visible to another connection');
      await conn.commit();
      [rows] = await other.query("SELECT COUNT(*) AS n FROM items WHERE name = 'committed'");
      assert.equal(rows[0].n, 1, 'a committed row is visible to another connection');

      await conn.beginTransaction();
      await conn.execute('INSERT INTO items (name, qty) VALUES (?, ?)', ['rolled back', 1]);
      await conn.execute('UPDATE items SET qty = 0 WHERE name = ?', ['apple']);
      [rows] = await conn.query("SELECT COUNT(*) AS n FROM items WHERE name = 'rolled back'");
      assert.equal(rows[0].n, 1, 'a transaction sees its own rows');
      await conn.rollback();
      [rows] = await conn.query("SELECT COUNT(*) AS n FROM items WHERE name = 'rolled back'");
      assert.equal(rows[0].n, 0, 'a rolled-back insert is gone');
      [rows] = await other.query("SELECT qty FROM items WHERE name = 'apple'");
      assert.equal(rows[0].qty, 3, 'a rolled-back update is gone');

      // A failed statement inside a transaction leaves the transaction open.
      await conn.beginTransaction();
      await conn.execute('INSERT INTO items (name) VALUES (?)', ['in tx']);
      const err = await rejects(conn.execute('INSERT INTO items (name) VALUES (?)', ['in tx']), 'duplicate in a transaction');
      assert.equal(err.errno, 1062);
      await conn.commit();
      [rows] = await other.query("SELECT COUNT(*) AS n FROM items WHERE name = 'in tx'");
      assert.equal(rows[0].n, 1);
    } finally {
      await other.end();
    }
  });

  await step('multi-statement query', async () => {
    const multi = await mysql.createConnection({ ...config, database: DB, multipleStatements: true });
    try {
      const [results] = await multi.query(
        "SELECT 1 AS a; SELECT name FROM items WHERE name = 'pear'; UPDATE items SET qty = qty WHERE name = 'pear'; SELECT 'end' AS e");
      assert.equal(results.length, 4);
      assert.deepEqual(results[0], [{ a: 1 }]);
      assert.deepEqual(results[1], [{ name: 'pear' }]);
      assert.equal(results[2].affectedRows, 1);
      assert.deepEqual(results[3], [{ e: 'end' }]);
      const [after] = await multi.query('SELECT 2 AS b');
      assert.deepEqual(after, [{ b: 2 }]);
    } finally {
      await multi.end();
    }

    // An error ends a multi-statement query in MySQL: the statements
    // after it do not run, and the connection answers the next query.
    const broken = await mysql.createConnection({ ...config, database: DB, multipleStatements: true });
    broken.on('error', () => {}); // a desynchronized connection may break
    try {
      const err = await rejects(broken.query(
        "SELECT 1 AS a; SELECT * FROM no_such_table; INSERT INTO items (name) VALUES ('after error')"), 'multi-statement with an error');
      assert.equal(err.errno, 1146);
      let next;
      try {
        const [rows] = await withTimeout(broken.query('SELECT 42 AS x'), 15000, 'query after a failed multi-statement');
        next = rows;
      } catch (e) {
        next = `error: ${e.message}`;
      }
      const [ran] = await conn.query("SELECT COUNT(*) AS n FROM items WHERE name = 'after error'");
      known('statements after an error in a multi-statement query', ran[0].n, 0, 1);
      // cairn sends the rest's results after the error packet: mysql2
      // either closes the connection on the unexpected packets or reads
      // them as the answer to its next query.
      const outcome = isDeepStrictEqual(next, [{ x: 42 }]) ? 'answers the next query' : 'connection desynchronized';
      if (outcome !== 'answers the next query') console.log(`     (the next query got ${show(next)})`);
      known('connection after a failed multi-statement query', outcome, 'answers the next query', 'connection desynchronized');
    } finally {
      broken.destroy();
      await conn.query("DELETE FROM items WHERE name = 'after error'");
    }
  });

  await step('errors and their codes', async () => {
    let err = await rejects(conn.query('SELECT * FROM no_such_table'), 'missing table');
    assert.equal(err.code, 'ER_NO_SUCH_TABLE');
    assert.equal(err.errno, 1146);
    known('ER_NO_SUCH_TABLE sqlState and message', [err.sqlState, err.sqlMessage],
      ['42S02', `Table '${DB}.no_such_table' doesn't exist`], ['HY000', 'table not found: no_such_table']);

    err = await rejects(conn.execute('INSERT INTO items (name) VALUES (?)', ['apple']), 'duplicate key');
    assert.equal(err.code, 'ER_DUP_ENTRY');
    assert.equal(err.errno, 1062);
    known('ER_DUP_ENTRY sqlState and message', [err.sqlState, err.sqlMessage],
      ['23000', "Duplicate entry 'apple' for key 'items.name_uq'"], ['HY000', 'duplicate unique key given: [apple]']);
    err = await rejects(conn.query('INSERT INTO items (id, name) VALUES (1, ?)', ['new']), 'duplicate primary key');
    assert.equal(err.errno, 1062);

    err = await rejects(conn.query('INSERT INTO items (name) VALUES (NULL)'), 'NULL in a NOT NULL column');
    assert.equal(err.code, 'ER_BAD_NULL_ERROR');
    assert.equal(err.errno, 1048);

    err = await rejects(conn.query('USE no_such_db'), 'USE of a missing database');
    assert.equal(err.code, 'ER_BAD_DB_ERROR');
    assert.equal(err.errno, 1049);

    err = await rejects(conn.query(`CREATE DATABASE ${DB}`), 'CREATE DATABASE of an existing one');
    assert.equal(err.errno, 1007);

    err = await rejects(conn.query('SELECT no_such_column FROM items'), 'missing column');
    known('unknown column', [err.errno, err.sqlState], [1054, '42S22'], [1105, 'HY000']);
    err = await rejects(conn.query('SELEC 1'), 'syntax error');
    known('syntax error', [err.errno, err.sqlState], [1064, '42000'], [1105, 'HY000']);
    err = await rejects(conn.query('CREATE TABLE items (x INT)'), 'CREATE TABLE of an existing one');
    known('table exists', [err.errno, err.sqlState], [1050, '42S01'], [1105, 'HY000']);
    err = await rejects(conn.execute('INSERT INTO items (name) VALUES (?)', ['x'.repeat(41)]), 'too long for VARCHAR(40)');
    known('data too long', [err.errno, err.sqlState], [1406, '22001'], [1105, 'HY000']);

    // NOW is no reserved word in MySQL.
    let alias;
    try {
      const [rows] = await conn.query('SELECT 1 now');
      alias = rows;
    } catch (e) {
      alias = errorOf(e).errno;
    }
    known('NOW as a column alias', alias, [{ now: 1 }], 1064); // a syntax error in cairn's parser

    // The connection is still usable after errors.
    await conn.ping();
    const [rows] = await conn.query('SELECT COUNT(*) AS n FROM items');
    assert.ok(rows[0].n > 0);
  });

  await step('result types MySQL gives aggregates and BIT', async () => {
    await conn.query('CREATE TABLE nums (id INT PRIMARY KEY, i INT, d DECIMAL(6,2), f DOUBLE, b BIT(8), u INT UNSIGNED)');
    await conn.query("INSERT INTO nums VALUES (1, 1, 1.25, 0.5, b'101', 1), (2, 2, 2.50, 1.5, b'11111111', 2), (3, 3, 3.75, 2.5, NULL, 3)");
    const [rows, fields] = await conn.query(
      'SELECT COUNT(*) AS cnt, SUM(i) AS si, AVG(i) AS ai, SUM(d) AS sd, AVG(d) AS ad, SUM(f) AS sf, MAX(d) AS md, MIN(i) AS mi FROM nums');
    const r = rows[0];
    const t = fieldTypes(fields);
    assert.equal(r.cnt, 3);
    assert.equal(t.cnt, T.LONGLONG);
    assert.equal(r.sf, 4.5);
    assert.equal(t.sf, T.DOUBLE);
    assert.equal(r.md, '3.75');
    assert.equal(t.md, T.DECIMAL);
    assert.equal(r.mi, 1);
    // MySQL: SUM and AVG of exact values (INT, DECIMAL) are DECIMAL, which
    // mysql2 returns as strings.
    known('SUM(INT) value and type', [r.si, t.si], ['6', T.DECIMAL], [6, T.DOUBLE]);
    known('AVG(INT) value and type', [r.ai, t.ai], ['2.0000', T.DECIMAL], [2, T.DOUBLE]);
    known('SUM(DECIMAL(6,2)) value and type', [r.sd, t.sd], ['7.50', T.DECIMAL], [7.5, T.DOUBLE]);
    known('AVG(DECIMAL(6,2)) value and type', [r.ad, t.ad], ['2.500000', T.DECIMAL], [2.5, T.DOUBLE]);

    // MySQL sends BIT columns with the binary character set, so mysql2
    // returns a Buffer.
    const [bits, bitFields] = await conn.query('SELECT b FROM nums ORDER BY id');
    assert.equal(bitFields[0].columnType, T.BIT);
    known('BIT(8) column character set', bitFields[0].characterSet, 63, 255);
    // mysql2 decodes them as UTF-8 text instead: b'11111111' is lost.
    known('BIT(8) values', bits.map((x) => x.b), [Buffer.from([5]), Buffer.from([255]), null], ['\x05', '\ufffd', null]);

    // A JS number goes as a DOUBLE parameter; MySQL converts 3e9 to an
    // INT UNSIGNED column (its range ends at 4294967295).
    let stored;
    try {
      await conn.execute('INSERT INTO nums (id, u) VALUES (?, ?)', [4, 3000000000]);
      const [u] = await conn.query('SELECT u FROM nums WHERE id = 4');
      stored = u[0].u;
    } catch (e) {
      stored = [e.errno, e.sqlMessage];
    }
    known('DOUBLE parameter 3e9 into INT UNSIGNED', stored, 3000000000, [1264, '3e+09 out of range for int unsigned']);
  });

  await step('connection pool with concurrent queries', async () => {
    const pool = mysql.createPool({ ...config, database: DB, connectionLimit: 4, waitForConnections: true });
    try {
      await pool.query('CREATE TABLE hits (id INT PRIMARY KEY, who VARCHAR(20), conn BIGINT)');
      const N = 40;
      const ids = Array.from({ length: N }, (_, i) => i + 1);
      // Concurrent prepared inserts, each on whichever pooled connection is free.
      await Promise.all(ids.map((i) => pool.execute('INSERT INTO hits VALUES (?, ?, CONNECTION_ID())', [i, `w${i % 5}`])));
      // Concurrent reads, some of them slow, so several connections are busy at once.
      const reads = await Promise.all(ids.map(async (i) => {
        const [rows] = await pool.query(i % 10 === 0 ? 'SELECT SLEEP(0.2) AS s, who FROM hits WHERE id = ?' : 'SELECT who FROM hits WHERE id = ?', [i]);
        return rows[0].who;
      }));
      assert.deepEqual(reads, ids.map((i) => `w${i % 5}`));
      const [[agg]] = await pool.query('SELECT COUNT(*) AS n, COUNT(DISTINCT conn) AS conns FROM hits');
      assert.equal(agg.n, N);
      assert.ok(agg.conns > 1 && agg.conns <= 4, `inserts ran on ${agg.conns} connections, want 2 to 4`);

      // Concurrent transactions on connections taken from the pool.
      await Promise.all([0, 1, 2, 3].map(async (k) => {
        const c = await pool.getConnection();
        try {
          await c.beginTransaction();
          await c.execute('UPDATE hits SET who = ? WHERE id % 4 = ?', [`t${k}`, k]);
          if (k % 2 === 0) await c.commit();
          else await c.rollback();
        } finally {
          c.release();
        }
      }));
      const [byWho] = await pool.query("SELECT who, COUNT(*) AS n FROM hits WHERE who LIKE 't%' GROUP BY who ORDER BY who");
      assert.deepEqual(byWho, [{ who: 't0', n: 10 }, { who: 't2', n: 10 }]);
    } finally {
      await pool.end();
    }
  });

  await step('clean up', async () => {
    await conn.query(`DROP DATABASE ${DB}`);
    const [rows] = await conn.query('SHOW DATABASES');
    assert.ok(!rows.some((r) => Object.values(r)[0] === DB));
    await conn.end();
  });

  console.log(`e2e.js: all steps passed; ${differences.length} known differences from MySQL`);
}

main().catch((err) => {
  console.error(`FAIL step "${currentStep}": ${err && err.stack ? err.stack : err}`);
  if (err && err.sqlMessage) console.error(`server error: ${show(errorOf(err))}`);
  process.exit(1);
});
