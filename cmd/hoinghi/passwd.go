package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"hoinghi/internal/auth"
	"hoinghi/internal/conference"
)

// runPasswd implements "hoinghi passwd": it reads a password from the first
// line of stdin and prints its bcrypt hash for auth.users, or with --name
// and --role the whole YAML entry of the user.
func runPasswd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("hoinghi passwd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "", "user name: print the YAML entry of auth.users rather than the bare hash")
	role := fs.String("role", "technician", "technician, chair or secretariat (with --name)")
	cost := fs.Int("cost", auth.DefaultCost, "bcrypt cost (4 to 31)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: hoinghi passwd [--name NAME --role ROLE] [--cost N] < password")
		fmt.Fprintln(stderr, "Reads the password from the first line of stdin and prints its bcrypt hash.")
		fs.PrintDefaults()
	}
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		return 2
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "hoinghi passwd: unexpected argument %q; the password is read from stdin\n", fs.Arg(0))
		return 2
	case *name != "" && !auth.ValidRole(conference.Role(*role)):
		fmt.Fprintf(stderr, "hoinghi passwd: --role: %q is not technician, chair or secretariat\n", *role)
		return 2
	case *cost < 4 || *cost > 31:
		fmt.Fprintf(stderr, "hoinghi passwd: --cost: %d is not between 4 and 31\n", *cost)
		return 2
	}
	fmt.Fprint(stderr, "Mật khẩu / Password: ")
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		fmt.Fprintln(stderr, "\nhoinghi passwd: read the password:", err)
		return 1
	}
	fmt.Fprintln(stderr)
	password := strings.TrimRight(line, "\r\n")
	if len(password) < 8 {
		fmt.Fprintln(stderr, "hoinghi passwd: the password needs at least 8 characters")
		return 2
	}
	if len(password) > 72 {
		fmt.Fprintln(stderr, "hoinghi passwd: bcrypt uses at most 72 bytes of a password; choose a shorter one")
		return 2
	}
	h, err := auth.HashPassword(password, *cost)
	if err != nil {
		fmt.Fprintln(stderr, "hoinghi passwd:", err)
		return 1
	}
	if *name == "" {
		fmt.Fprintln(stdout, h)
		return 0
	}
	fmt.Fprintf(stdout, "- name: %q\n  role: %s\n  password_hash: %q\n", *name, *role, h)
	return 0
}
