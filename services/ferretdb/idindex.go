package main

// The `_id` index that FerretDB 1.24's SQLite backend can use.
//
// FerretDB indexes `_id` on the expression (_ferretdb_sjson->"_id"), but it
// pushes an `_id` equality down as `_ferretdb_sjson->'$._id' = ?`. SQLite does
// not match the two expressions, so every find, replace or delete by `_id`
// scans the collection: about a second at 200k documents. An index on the
// pushed-down expression turns each into a lookup of about a millisecond
// (measured on this project's documents: 200 replace_one by `_id` took 389 s
// without it and 0.3 s with it).
//
// FerretDB keeps no record of this index. It lives and is dropped with the
// collection's table, so a goroutine adds it to every collection that lacks it.

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the driver FerretDB itself uses
)

const idPathIndexSuffix = "__id_path"

// keepIDIndexes adds the index to new collections until ctx ends.
func keepIDIndexes(ctx context.Context, dir string, every time.Duration) {
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	for {
		files, _ := filepath.Glob(filepath.Join(dir, "*.sqlite"))
		for _, file := range files {
			if err := addIDIndexes(file); err != nil && !expected(err) {
				log.Printf("id index: %s: %v", filepath.Base(file), err)
			}
			removeOrphans(file)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// addIDIndexes indexes every collection of one database file that lacks the index.
func addIDIndexes(file string) error {
	// mode=rw: a database dropped a moment ago must not be created again here.
	db, err := sql.Open("sqlite", "file:"+file+"?mode=rw&_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer db.Close()

	rows, err := db.Query(
		`SELECT c.table_name FROM _ferretdb_collections c WHERE NOT EXISTS (
		   SELECT 1 FROM sqlite_master m WHERE m.type = 'index' AND m.name = c.table_name || ?)`,
		idPathIndexSuffix,
	)
	if err != nil {
		return err
	}
	var tables []string
	for rows.Next() {
		var table string
		if err := rows.Scan(&table); err != nil {
			rows.Close()
			return err
		}
		tables = append(tables, table)
	}
	rows.Close()

	for _, table := range tables {
		statement := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %q ON %q (_ferretdb_sjson->'$._id')`, table+idPathIndexSuffix, table)
		if _, err := db.Exec(statement); err != nil {
			return err
		}
	}
	return nil
}

// removeOrphans deletes the WAL and shared-memory files of a database that was
// dropped while this goroutine had it open: FerretDB removes only the main file,
// and a new database of the same name must not find an old WAL beside it.
func removeOrphans(file string) {
	if _, err := os.Stat(file); os.IsNotExist(err) {
		os.Remove(file + "-wal")
		os.Remove(file + "-shm")
	}
}

// expected reports the errors of a database that is being created or dropped.
func expected(err error) bool {
	message := err.Error()
	return strings.Contains(message, "no such table") || strings.Contains(message, "unable to open database")
}
