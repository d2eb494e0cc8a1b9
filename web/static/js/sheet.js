// The printable sheet of a conference's point links (internal/server/sheet.go):
// its print button, a script file rather than an onclick attribute, as the
// Content-Security-Policy wants.
document.getElementById('print').addEventListener('click', () => window.print());
