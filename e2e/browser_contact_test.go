package e2e_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// browserSetContact names the school's contact person on its page the way
// its administrator would: the form is empty, saving it shows the contact
// on the page, and the admin API (same token) agrees.
func browserSetContact(t *testing.T, b *chromeTab, p *browserServe, school, token string) {
	t.Helper()
	if none := b.text("#contact-none"); !strings.Contains(none, "nog geen contactpersoon") {
		t.Errorf("before one is set the contact section says %q", none)
	}
	b.do("fill in the contact person", chromedp.SendKeys(chromedp.ID("contact-name-input"), "Bea de Beheerder"),
		chromedp.SendKeys(chromedp.ID("contact-email-input"), "bea@school.example"),
		chromedp.SendKeys(chromedp.ID("contact-phone-input"), "020 123 45 67"))
	b.submit("save the contact person", chromedp.Click(chromedp.ID("contact-save")))
	if msg := b.text(".message"); msg != "Contactpersoon opgeslagen." {
		t.Errorf("after saving the contact person the message is %q", msg)
	}
	for sel, want := range map[string]string{"#contact-name": "Bea de Beheerder", "#contact-email": "bea@school.example", "#contact-phone": "020 123 45 67"} {
		if got := b.text(sel); got != want {
			t.Errorf("%s shows %q, want %q", sel, got, want)
		}
	}
	if by := b.text("#contact-updated"); !strings.Contains(by, "e2e-browser") {
		t.Errorf("the contact section says %q, want who set it (the token e2e-browser)", by)
	}
	req, _ := http.NewRequest(http.MethodGet, p.base+"/api/v1/schools/"+url.PathEscape(school)+"/contact", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := browserHTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct{ Name, Email, Phone string }
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET contact: status %d, %v", resp.StatusCode, err)
	}
	if got.Name != "Bea de Beheerder" || got.Email != "bea@school.example" || got.Phone != "020 123 45 67" {
		t.Errorf("API contact %+v", got)
	}
}
