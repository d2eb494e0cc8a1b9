package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"hoinghi/internal/auth"
	"hoinghi/internal/conference"
	"hoinghi/internal/server/servertest"
	"hoinghi/internal/store/storetest"
)

// pointsCSV is a point registry file as a provincial office keeps it:
// Vietnamese column names, an STT column the import ignores, no ids (they
// are made from the names).
const pointsCSV = "STT,Tên điểm cầu,Quận/huyện,Người đại diện,Số điện thoại,Số đại biểu dự kiến\n" +
	"1,Điểm cầu thành phố Biên Hòa,Biên Hòa,Trần Thị Bình,0251 3822 222,60\n" +
	"2,Điểm cầu huyện Long Thành,Long Thành,Nguyễn Văn An,0251 3844 111,40\n" +
	"3,Điểm cầu huyện Định Quán,Định Quán,Lê Văn Cường,0251 3855 333,35\n"

// TestBrowserTechnicianSetsUpConference runs the hall technician's
// preparation through the pages: log in (the admin page sends the browser
// to the login page and back), create a conference, import three points
// from a CSV file and invite them, open the conference's console from the
// admin page (admitted by the login cookie), copy a point's link there and
// open it in another browser (no cookie), and see the point's link quality
// from the server in the console's list.
func TestBrowserTechnicianSetsUpConference(t *testing.T) {
	start := time.Now()
	st := storetest.Redis(t)
	const name, password = "kythuat", "mat-khau-hoi-truong"
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	stack := servertest.StartWith(t, st, servertest.Options{Users: []auth.User{
		{Name: name, Role: conference.RoleTechnician, PasswordHash: string(hash)},
	}})
	browser := startBrowser(t)
	admin := newTab(t, browser)

	// Without a login the admin page sends the browser to the login page.
	navigate(t, admin, stack.URL+"/admin/")
	waitFor(t, admin, "login page", `location.pathname === '/login/' && new URLSearchParams(location.search).get('next') === '/admin/' && document.querySelector('#name')?.offsetParent !== null && document.body.dataset.ready === 'true'`, 10*time.Second)
	// Fill the form and press the button from the page itself, once its
	// script answers the form (a click before would submit it natively).
	fill := fmt.Sprintf(`(() => { document.querySelector('#name').value = %q; document.querySelector('#password').value = %q;
	  document.querySelector('#submit').click(); })()`, name, password)
	if _, err := eval[chromedp.Void](admin, fill); err != nil {
		t.Fatalf("log in: %v", err)
	}
	waitFor(t, admin, "admin page, logged in", `location.pathname === '/admin/' && document.body.dataset.step === 'ready' && document.querySelector('#status').dataset.state === 'connected'`, 10*time.Second)
	t.Logf("logged in after %v", time.Since(start).Round(time.Millisecond))

	// Create a conference with the page's form.
	const confID, title = "so-ket-6-thang", "Hội nghị sơ kết 6 tháng"
	if _, err := eval[chromedp.Void](admin, `document.querySelector('#create-box').open = true`); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(admin,
		chromedp.SendKeys(chromedp.CSS(`#create-form [name="id"]`), confID),
		chromedp.SendKeys(chromedp.CSS(`#create-form [name="title"]`), title),
		chromedp.Click(chromedp.CSS(`#create-form button[type="submit"]`)),
	); err != nil {
		t.Fatalf("create the conference: %v", err)
	}
	waitFor(t, admin, "conference created and open", fmt.Sprintf(`document.querySelector('#create-message').dataset.kind === 'ok' &&
	  document.querySelector('#current-title').textContent === %q && !document.querySelector('#current').hidden &&
	  document.querySelector('#conf-list [data-open=%q]')`, title, confID), 10*time.Second)
	if c, err := st.Conference(context.Background(), confID); err != nil || c.Title != title {
		t.Fatalf("stored conference = %+v, %v; want the title %q", c, err, title)
	}

	// Name the organizing unit, which heads the PDF annex.
	const organizer = "Văn phòng Tỉnh ủy Đồng Nai"
	// The message of the step before says ok already: clear it, so that
	// the wait below sees this save's answer.
	if _, err := eval[chromedp.Void](admin, `document.querySelector('#current-message').dataset.kind = ''`); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(admin,
		chromedp.SendKeys(chromedp.CSS(`#settings-form [name="organizer"]`), organizer),
		chromedp.Click(chromedp.CSS(`#settings-form button[type="submit"]`)),
	); err != nil {
		t.Fatalf("save the organizer: %v", err)
	}
	waitFor(t, admin, "organizer saved", fmt.Sprintf(`document.querySelector('#current-message').dataset.kind === 'ok' &&
	  document.querySelector('#settings-form [name="organizer"]').value === %q`, organizer), 10*time.Second)
	if c, err := st.Conference(context.Background(), confID); err != nil || c.Organizer != organizer || c.Title != title {
		t.Fatalf("stored conference = %+v, %v; want the organizer %q", c, err, organizer)
	}

	// Import three points from a CSV file into the registry and invite them.
	file := filepath.Join(t.TempDir(), "diem-cau-dong-nai.csv")
	if err := os.WriteFile(file, []byte(pointsCSV), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(admin, chromedp.SetUploadFiles(chromedp.CSS("#import-file"), []string{file})); err != nil {
		t.Fatalf("choose the CSV file: %v", err)
	}
	click(t, admin, "#import")
	waitFor(t, admin, "registry imported", `document.querySelector('#registry-message').dataset.kind === 'ok' &&
	  document.querySelectorAll('#registry-body tr').length === 3`, 10*time.Second)
	click(t, admin, "#select-all")
	click(t, admin, "#invite")
	waitFor(t, admin, "points invited, their links listed", `document.querySelector('#registry-message').dataset.kind === 'ok' &&
	  document.querySelectorAll('#links-body tr[data-point]').length === 3 && document.querySelector('#links-empty').hidden`, 10*time.Second)
	names, err := eval[[]string](admin, `[...document.querySelectorAll('#links-body tr[data-point] .list-name')].map((n) => n.textContent)`)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Điểm cầu thành phố Biên Hòa", "Điểm cầu huyện Long Thành", "Điểm cầu huyện Định Quán"}; strings.Join(names, "|") != strings.Join(want, "|") {
		t.Errorf("invited points = %q, want %q", names, want)
	}
	if _, err := eval[chromedp.Void](admin, `document.querySelector('#create-box').open = false`); err != nil {
		t.Fatal(err)
	}
	wholePageScreenshot(t, admin, "admin.png")
	t.Logf("conference prepared after %v", time.Since(start).Round(time.Millisecond))

	// Open the console from the admin page: a new tab of the same browser,
	// admitted by the login cookie.
	opened := chromedp.WaitNewTarget(admin, func(info *target.Info) bool { return strings.Contains(info.URL, "/console/") })
	if err := chromedp.Do(admin, chromedp.Click(chromedp.CSS("#console-link"))); err != nil {
		t.Fatalf("click the console link: %v", err)
	}
	var hall context.Context
	select {
	case id := <-opened:
		hall = followTab(t, admin, id)
	case <-time.After(10 * time.Second):
		t.Fatal("the console link opened no tab")
	}
	waitFor(t, hall, "console connected by the login", connected+fmt.Sprintf(` && location.pathname === '/console/' &&
	  new URLSearchParams(location.search).get('conference') === %q && !new URLSearchParams(location.search).has('t') &&
	  document.querySelector('#conf-title').textContent === %q`, confID, title), 15*time.Second)

	// The list view offers each invited point's link; copy the first one.
	click(t, hall, `[data-view="list"]`)
	waitFor(t, hall, "list view with every point's link", `document.querySelectorAll('#list-body tr[data-state="invited"] button[data-link][data-url^="http"]').length === 3`, 10*time.Second)
	point, err := eval[string](hall, `document.querySelector('#list-body tr[data-state="invited"]').dataset.participant`)
	if err != nil {
		t.Fatal(err)
	}
	for _, perm := range []string{"clipboard-read", "clipboard-write"} {
		if _, err := chromedp.CallBrowser(hall, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
			Permission:       &cdpbrowser.PermissionDescriptor{Name: perm},
			Setting:          cdpbrowser.PermissionSettingGranted,
			Origin:           stack.URL,
			BrowserContextID: chromedp.FromContext(admin).BrowserContextID,
		}); err != nil {
			t.Fatalf("allow %s: %v", perm, err)
		}
	}
	// A real click, which the clipboard needs. The list is drawn anew
	// when figures arrive, so the button found may be gone a moment
	// later ("Could not find node"): find it again.
	for try := 0; ; try++ {
		err := chromedp.Do(hall, chromedp.Click(chromedp.CSS(fmt.Sprintf(`#list-body tr[data-participant=%q] button[data-link]`, point))))
		if err == nil {
			break
		}
		if try == 5 || !strings.Contains(err.Error(), "Could not find node") {
			t.Fatalf("click the link button: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	waitFor(t, hall, "link copied", `[...document.querySelectorAll('#notices *')].some((n) => n.textContent.startsWith('Đã chép đường dẫn của '))`, 5*time.Second)
	link, err := eval[string](hall, `navigator.clipboard.readText()`)
	if err != nil {
		t.Fatalf("read the clipboard: %v", err)
	}
	if !strings.HasPrefix(link, stack.URL+"/point/?t=") {
		t.Fatalf("copied link = %q, want a point link of %s", link, stack.URL)
	}
	shown, err := eval[string](hall, fmt.Sprintf(`document.querySelector('#list-body tr[data-participant=%q] button[data-link]').dataset.url`, point))
	if err != nil || shown != link {
		t.Errorf("the button's link = %q, %v; want the copied %q", shown, err, link)
	}

	// The point opens its link in another browser, with no login.
	pointTab := newTab(t, browser)
	openPoint(t, pointTab, link)
	waitFor(t, pointTab, point+" connected", connected, 15*time.Second)
	if me, err := eval[int](pointTab, `fetch('/api/me').then((r) => r.status)`); err != nil || me != 401 {
		t.Errorf("the point's browser /api/me = %d, %v; want 401 (no login there)", me, err)
	}
	t.Logf("%s connected after %v", point, time.Since(start).Round(time.Millisecond))

	// Its link quality, as the server measures it, shows in the list.
	waitFor(t, hall, "the point's link quality in the console's list", fmt.Sprintf(`(() => {
	  const r = document.querySelector('#list-body tr[data-participant=%q]');
	  return r && r.dataset.source === 'server' && Number(r.querySelector('.list-kbps').textContent) > 0 &&
	    /^\d+(\.\d)?$/.test(r.querySelector('.list-rtt').textContent) && /^\d+\.\d$/.test(r.querySelector('.list-loss').textContent) &&
	    ['UDP', 'TCP', 'TURN'].includes(r.querySelector('.list-network').textContent); })()`, point), 10*time.Second)
	row, err := eval[string](hall, fmt.Sprintf(`document.querySelector('#list-body tr[data-participant=%q]').innerText`, point))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("list row of %s: %s", point, strings.Join(strings.Fields(row), " "))
	t.Logf("total %v", time.Since(start).Round(time.Millisecond))
}

// followTab attaches to the tab id that a page of parent opened (in
// parent's browser context, so with its cookies), and closes it when the
// test ends. An uncaught exception in it fails the test, as in newTab.
func followTab(t *testing.T, parent context.Context, id target.ID) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(parent, chromedp.WithTargetID(id))
	var (
		mu         sync.Mutex
		exceptions []string
	)
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		t.Fatalf("attach to the tab: %v", err)
	}
	if err := chromedp.Listen(ctx, func(ev any) {
		if ev, ok := ev.(*cdpruntime.EventExceptionThrown); ok {
			text := ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil {
				text += " " + ev.ExceptionDetails.Exception.Description
			}
			mu.Lock()
			exceptions = append(exceptions, text)
			mu.Unlock()
		}
	}); err != nil {
		cancel()
		t.Fatalf("listen to the tab: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		mu.Lock()
		defer mu.Unlock()
		for _, e := range exceptions {
			t.Errorf("uncaught exception in the console: %s", e)
		}
	})
	return ctx
}

// wholePageScreenshot saves a screenshot (see screenshot) of the whole
// page: the viewport grows to the height of the page's scrolling main area
// for the picture, and shrinks back after.
func wholePageScreenshot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	height, err := eval[int64](tab, `Math.ceil(document.querySelector('header').offsetHeight + document.querySelector('main').scrollHeight)`)
	if err != nil {
		t.Fatalf("page height: %v", err)
	}
	if err := chromedp.Do(tab, chromedp.EmulateViewport(1280, max(720, height))); err != nil {
		t.Fatalf("grow the viewport: %v", err)
	}
	screenshot(t, tab, name)
	if err := chromedp.Do(tab, chromedp.EmulateViewport(1280, 720)); err != nil {
		t.Fatalf("restore the viewport: %v", err)
	}
}
