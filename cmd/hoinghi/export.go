package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	ossignal "os/signal"
	"path/filepath"
	"syscall"
	"time"

	"hoinghi/internal/conference"
	"hoinghi/internal/config"
	"hoinghi/internal/export"
	"hoinghi/internal/store"
)

const exportUsage = `Usage: hoinghi export --conference ID [--format xlsx|csv|pdf] [--separator semicolon|comma] [-o FILE] [settings flags]

Writes the attendance report of a conference: XLSX workbook, zip of CSV
files, or the printable PDF annex to the minutes. The CSV fields are
separated by semicolons, as Excel with Vietnamese regional settings reads
them; --separator comma writes commas, for Excel with English settings.
-o - writes to standard output; without -o the file is named like
diem-danh-ID-YYYYMMDD.xlsx (diem-danh-ID-YYYYMMDD-csv.zip for the CSV
files) in the current directory.

The store is found as the server finds it (-config, -redis, -data-dir and
their HOINGHI_* variables):
  - with a Redis address, the export reads the running (or stopped) server's
    Redis and writes nothing to it;
  - without one, it opens the embedded store in the data directory. The
    embedded store is locked by the server that uses it: stop the server
    first, or download the export from the running server instead
    (GET /api/conferences/ID/export?format=xlsx, or
    ?format=csv&separator=comma, with a technician or secretariat link).

Flags:
`

// runExport implements "hoinghi export": it writes the attendance report of
// one conference to a file or standard output.
func runExport(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("hoinghi export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), exportUsage)
		fs.PrintDefaults()
	}
	confID := fs.String("conference", "", "conference id (required)")
	format := fs.String("format", "xlsx", "xlsx, csv (a zip of CSV files) or pdf")
	separator := fs.String("separator", string(export.SeparatorSemicolon), "CSV field separator: semicolon (;) or comma (,)")
	out := fs.String("o", "", "output file, - for standard output (default diem-danh-ID-YYYYMMDD.EXT)")
	cfg, err := config.LoadFlags(fs, args, getenv)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		fmt.Fprintln(stderr, "hoinghi export:", err)
		return 2
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "hoinghi export: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if err := conference.ValidateID(*confID); err != nil {
		fmt.Fprintln(stderr, "hoinghi export: --conference:", err)
		return 2
	}
	f, err := export.ParseFormat(*format)
	if err != nil {
		fmt.Fprintln(stderr, "hoinghi export: --format:", err)
		return 2
	}
	sep, err := export.ParseSeparator(*separator)
	if err != nil {
		fmt.Fprintln(stderr, "hoinghi export: --separator:", err)
		return 2
	}
	ctx, stop := ossignal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	path, err := exportConference(ctx, cfg, *confID, f, export.Options{Separator: sep}, *out, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "hoinghi export:", err)
		return 1
	}
	if path != "" {
		fmt.Fprintln(stderr, "hoinghi export: wrote", path)
	}
	return 0
}

// exportConference opens the store cfg names, builds the report of confID
// and writes it in format f with the options o to the file out, or to
// stdout for "-". It returns the path written, empty for stdout.
func exportConference(ctx context.Context, cfg config.Config, confID string, f export.Format, o export.Options, out string, stdout io.Writer) (path string, err error) {
	opts := store.Options{
		Addr:     cfg.Redis.Addr,
		DB:       cfg.Redis.DB,
		Password: cfg.Redis.Password,
		Prefix:   cfg.Redis.Prefix,
		Logger:   cfg.NewLogger(io.Discard),
	}
	if opts.Addr == "" {
		// The embedded store lives in the data directory. With Redis the
		// data directory only holds the server's attendance spool, which
		// the running server has locked and an export never writes.
		opts.DataDir = cfg.DataDir
	}
	st, err := store.Open(ctx, opts)
	if err != nil {
		if opts.Addr == "" {
			return "", fmt.Errorf("%w (is the server running on data dir %s? stop it, or export through its API)", err, cfg.DataDir)
		}
		return "", err
	}
	defer func() {
		if cerr := st.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close store: %w", cerr)
		}
	}()
	r, err := export.Load(ctx, st, confID, time.Now())
	if errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("conference %s not found in %s", confID, storeName(st, cfg))
	}
	if err != nil {
		return "", err
	}
	if out == "-" {
		return "", f.Write(stdout, r, o)
	}
	if out == "" {
		out = f.Filename(r)
	}
	return out, writeFileAtomic(out, func(w io.Writer) error { return f.Write(w, r, o) })
}

// writeFileAtomic writes path through a temporary file in the same
// directory, renamed into place once complete, so that a failed export
// leaves no half-written file.
func writeFileAtomic(path string, write func(io.Writer) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := write(tmp); err != nil {
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
