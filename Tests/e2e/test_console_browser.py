"""The web console in a real browser: Debian's headless Chromium driven by selenium. Seed 002's
flow — sign on, Account settings, Create → Access token, Create → Key → Generate private key →
download the .pem → Save, find the organization id — then the seed-000 script uses what the
console gave, and a PAT revoked in the console is refused. Every page is photographed into
artifacts/console-screenshots/ (kept by CI)."""
import os
import shutil
import time
from pathlib import Path

import pytest
import requests

from conftest import PASSWORD, ROOT, Server, require, tessera
from seed_scripts import SEEDS, fill_variables, run_script

SCREENSHOTS = Path(os.environ.get("TESSERA_SCREENSHOTS", ROOT / "artifacts" / "console-screenshots"))
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture
def browser(workdir: Path):
    require(os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER), "chromium and chromium-driver are not installed",
            "apt-get install chromium chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    downloads = workdir / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    # tessera.test reaches the server by a host name over plain HTTP: not a secure context.
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,900",
                     "--host-resolver-rules=MAP tessera.test 127.0.0.1"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {
        "download.default_directory": str(downloads), "download.prompt_for_download": False,
        "safebrowsing.enabled": True,
    })
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(5)
    driver.downloads = downloads
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


def shoot(driver, name):
    """A full-height screenshot of the current page."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    width = driver.get_window_size()["width"]
    driver.set_window_size(width, max(600, min(height + 140, 4000)))
    driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))


def no_console_errors(driver):
    """Nothing the page did was refused by the Content-Security-Policy or failed to load."""
    problems = [entry for entry in driver.get_log("browser") if entry["level"] in ("SEVERE", "WARNING")
                # the deliberately wrong password is answered 401, and the deliberately refused
                # new user 400, which Chromium logs
                and not ("/console/sign-in" in entry["message"] and "status of 401" in entry["message"])
                and not ("/console/admin/users " in entry["message"] and "status of 400" in entry["message"])]
    assert not problems, problems


def navigate(driver, element):
    """Clicks a link or submit button and waits for the next page to replace this one."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait
    page = driver.find_element("tag name", "html")
    element.click()

    def replaced(_):
        try:
            page.is_enabled()  # raises once the old document is gone (stale element, or a detached node)
            return False
        except WebDriverException:
            return True

    WebDriverWait(driver, 15).until(replaced)


def sign_on(driver, server, username="demo", password=PASSWORD):
    from selenium.webdriver.common.by import By
    driver.get(server.url + "/console")
    assert driver.current_url.endswith("/console/sign-in")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(password)
    navigate(driver, driver.find_element(By.ID, "sign-on"))


def test_seed_002_flow_in_a_browser_then_seed_000_uses_it(browser, workdir: Path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    server = Server(workdir)
    try:
        driver = browser
        driver.get(server.url + "/console")
        shoot(driver, "01-sign-on")
        sign_on(driver, server, password="wrong-password")
        assert "incorrect" in driver.find_element(By.ID, "error").text
        sign_on(driver, server)
        assert driver.current_url.endswith("/console/account")
        assert driver.find_element(By.TAG_NAME, "h1").text == "Account settings"
        shoot(driver, "02-account-settings-empty")
        no_console_errors(driver)

        # Create → Access token.
        driver.find_element(By.ID, "create").click()
        navigate(driver, driver.find_element(By.ID, "create-access-token"))
        driver.find_element(By.ID, "pat-name").send_keys("seed-000")
        driver.find_element(By.ID, "pat-environment").send_keys("production")
        days = driver.find_element(By.ID, "pat-days")
        days.clear()
        days.send_keys("30")
        shoot(driver, "03-create-access-token")
        navigate(driver, driver.find_element(By.ID, "save"))
        secret = driver.find_element(By.ID, "pat-secret").text
        assert len(secret) == 28, secret
        assert "only time the token is shown" in driver.page_source
        assert driver.find_element(By.ID, "copy-pat").text == "Copy"
        shoot(driver, "04-access-token-created")
        # The how-to panel names the user and organization, never the secret.
        panel = driver.find_element(By.ID, "how-to").text
        assert "--sub demo --org dataresiliency" in panel and secret not in panel

        # Create → Key → Generate key pair named "demorsakey" (seed 000's name) → download → Save.
        driver.get(server.url + "/console/account")
        driver.find_element(By.ID, "create").click()
        navigate(driver, driver.find_element(By.ID, "create-key"))
        driver.find_element(By.ID, "key-name").send_keys("demorsakey")
        Select(driver.find_element(By.ID, "key-algorithm")).select_by_value("RS256")
        shoot(driver, "05-create-key")
        navigate(driver, driver.find_element(By.ID, "generate"))
        shoot(driver, "06-key-generated-download")
        driver.find_element(By.ID, "download").click()
        pem_file = driver.downloads / "demorsakey.pem"
        deadline = time.time() + 15
        while not (pem_file.exists() and pem_file.stat().st_size > 0) and time.time() < deadline:
            time.sleep(0.1)
        assert pem_file.exists(), list(driver.downloads.iterdir())
        assert pem_file.read_text().startswith("-----BEGIN PRIVATE KEY-----")
        navigate(driver, driver.find_element(By.ID, "save-key"))
        assert "Key “demorsakey” saved" in driver.find_element(By.TAG_NAME, "h1").text
        assert "generated" in driver.page_source
        python_snippet = driver.find_element(By.ID, "how-to-python").text
        assert 'KEY_NAME = "demorsakey"' in python_snippet and 'USER = "demo"' in python_snippet and secret not in python_snippet
        shoot(driver, "07-key-saved-how-to")
        cli_command = driver.find_element(By.ID, "how-to-cli").text
        # The panel's snippets run as shown, once the saved PAT is put where they say.
        snippet = python_snippet.replace("paste the access token you saved", secret)
        (driver.downloads / "how-to.py").write_text(snippet)
        assert "'domain_name': 'dataresiliency'" in run_script(driver.downloads / "how-to.py", driver.downloads)
        command = cli_command.splitlines()[-1].replace('"$PAT"', secret).split()
        assert command[:3] == ["tessera", "token", "create"]
        created = tessera(*command[1:], cwd=driver.downloads)
        cli_token = created.stdout.strip().splitlines()[-1]
        assert requests.get(server.url + "/api/me", headers={"Authorization": f"Bearer {cli_token}"}, timeout=10).status_code == 200

        # The organization id, from the organization page.
        driver.get(server.url + "/console/organization")
        organization_id = driver.find_element(By.ID, "org-id").text
        assert len(organization_id) == 36
        assert '"domain_name": "dataresiliency"' in driver.find_element(By.ID, "organization-document").text
        shoot(driver, "08-organization")

        # Seed 000's script, unchanged but for its variables, with what the console gave.
        script = fill_variables((SEEDS / "gen-jwt.py").read_text(), {
            "PAT": secret, "USER": "demo", "KEY_NAME": "demorsakey", "ORG_ID": organization_id})
        (driver.downloads / "gen-jwt.py").write_text(script)
        token = run_script(driver.downloads / "gen-jwt.py", driver.downloads).split("JWT: ", 1)[1].strip()
        reply = requests.get(server.url + "/api/my-organization", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert reply.status_code == 200, reply.text
        assert reply.json()["id"] == organization_id

        driver.get(server.url + "/console/account")
        rows = driver.find_elements(By.CSS_SELECTOR, "#pats tbody tr")
        assert len(rows) == 1 and "active" in rows[0].text and "production" in rows[0].text
        assert "SHA256:" in driver.find_element(By.CSS_SELECTOR, "#keys tbody tr").text
        shoot(driver, "09-account-settings")

        # Revoke in the console, with confirmation; the token is refused at once.
        navigate(driver, rows[0].find_element(By.LINK_TEXT, "Revoke"))
        assert driver.find_element(By.TAG_NAME, "h1").text == "Revoke access token"
        shoot(driver, "10-revoke-confirmation")
        navigate(driver, driver.find_element(By.ID, "confirm"))
        assert "revoked" in driver.find_element(By.CSS_SELECTOR, ".notice").text
        assert "revoked" in driver.find_element(By.CSS_SELECTOR, "#pats tbody tr").text
        refused = requests.get(server.url + "/api/my-organization", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert refused.status_code == 401 and refused.json()["code"] == "pat_revoked"
        no_console_errors(driver)

        # The admin pages, each used once.
        driver.get(server.url + "/console/admin")
        shoot(driver, "11-admin")
        driver.get(server.url + "/console/admin/users")
        # A name taken whatever its case: the reason sits under the field, the input kept.
        driver.find_element(By.NAME, "username").send_keys("Demo")
        driver.find_element(By.NAME, "password").send_keys("operator-password")
        navigate(driver, driver.find_element(By.CSS_SELECTOR, "form[method='post'][action='/console/admin/users'] button"))
        username = driver.find_element(By.NAME, "username")
        assert username.get_attribute("aria-invalid") == "true" and username.get_attribute("value") == "Demo"
        assert "already exists" in driver.find_element(By.CSS_SELECTOR, "label + p.field-error").text
        shoot(driver, "12-admin-users-refused")
        username.clear()
        username.send_keys("operator")
        driver.find_element(By.NAME, "password").send_keys("operator-password")
        navigate(driver, driver.find_element(By.CSS_SELECTOR, "form[method='post'][action='/console/admin/users'] button"))
        assert "operator" in driver.find_element(By.ID, "users").text
        # Disable operator: refused at sign-on, shown as disabled.
        navigate(driver, driver.find_element(By.CSS_SELECTOR, "tr[data-name='operator'] a.disable"))
        navigate(driver, driver.find_element(By.ID, "confirm"))
        assert "User “operator” disabled" in driver.find_element(By.CSS_SELECTOR, ".notice").text
        assert "disabled" in driver.find_element(By.CSS_SELECTOR, "tr[data-name='operator']").text
        refused = requests.get(server.url + "/api/me", headers=server.basic("operator", "operator-password"), timeout=10)
        assert refused.status_code == 401 and refused.json()["code"] == "user_disabled"
        shoot(driver, "12-admin-users")
        driver.get(server.url + "/console/admin/applications")
        driver.find_element(By.NAME, "name").send_keys("backup-service")
        driver.find_element(By.CSS_SELECTOR, "input[name=scope][value='urn:cloud:idaas:pam|.all']").click()
        navigate(driver, driver.find_element(By.CSS_SELECTOR, "form[method='post'][action='/console/admin/applications'] button"))
        client_id = driver.find_element(By.ID, "client-id").text
        client_secret = driver.find_element(By.ID, "client-secret").text
        token_reply = requests.post(server.url + "/oauth2/token", data={"grant_type": "client_credentials"},
                                    auth=(client_id, client_secret), timeout=10)
        assert token_reply.status_code == 200, token_reply.text
        # Rotate its secret with an hour's overlap: both secrets work meanwhile.
        driver.get(server.url + "/console/admin/applications")
        navigate(driver, driver.find_element(By.CSS_SELECTOR, f"tr[data-name='{client_id}'] a.rotate-secret"))
        Select(driver.find_element(By.ID, "overlap_seconds")).select_by_value("3600")
        navigate(driver, driver.find_element(By.ID, "confirm"))
        assert "The previous secret keeps working until" in driver.find_element(By.ID, "previous-secret").text
        new_secret = driver.find_element(By.ID, "client-secret").text
        for each in (client_secret, new_secret):
            assert requests.post(server.url + "/oauth2/token", data={"grant_type": "client_credentials"}, auth=(client_id, each),
                                 timeout=10).status_code == 200
        shoot(driver, "13-application-secret-rotated")
        driver.get(server.url + "/console/admin/applications")
        assert "works until" in driver.find_element(By.CSS_SELECTOR, f"tr[data-name='{client_id}']").text
        shoot(driver, "13-admin-applications")
        driver.get(server.url + "/console/admin/credential-providers")
        driver.find_element(By.NAME, "name").send_keys("pam-jwt")
        driver.find_element(By.NAME, "issuer").send_keys("https://pam.example")
        navigate(driver, driver.find_element(By.CSS_SELECTOR, "form[method='post'][action='/console/admin/credential-providers'] button"))
        assert "pam-jwt" in driver.find_element(By.ID, "providers").text
        shoot(driver, "14-admin-credential-providers")
        driver.get(server.url + "/console/admin/tr50")
        form = driver.find_element(By.CSS_SELECTOR, "form[action='/console/admin/tr50/roles']")
        form.find_element(By.NAME, "key").send_keys("viewonly")
        form.find_element(By.NAME, "commands").send_keys("thing.find thing.list")
        form.find_element(By.NAME, "view_tags").send_keys("viewtag1")
        navigate(driver, form.find_element(By.TAG_NAME, "button"))
        form = driver.find_element(By.CSS_SELECTOR, "form[action='/console/admin/tr50/things']")
        form.find_element(By.NAME, "key").send_keys("thingKey1")
        form.find_element(By.NAME, "sec_tags").send_keys("viewtag1")
        navigate(driver, form.find_element(By.TAG_NAME, "button"))
        assert "viewonly" in driver.find_element(By.ID, "roles").text
        assert "thingKey1" in driver.find_element(By.ID, "things").text
        shoot(driver, "15-admin-roles-and-things")
        driver.get(server.url + "/console/admin/signing-keys")
        navigate(driver, driver.find_element(By.CSS_SELECTOR, "form[action='/console/admin/signing-keys/rotate'] button"))
        assert "is signing now" in driver.find_element(By.CSS_SELECTOR, ".notice").text
        shoot(driver, "16-admin-signing-keys")
        driver.get(server.url + "/console/admin/audit")
        audit = driver.find_element(By.ID, "audit").text
        for action in ("console.sign-on", "pat.create", "key.generate", "pat.revoke", "user.create", "application.create"):
            assert action in audit, action
        shoot(driver, "17-admin-audit")
        no_console_errors(driver)

        # On a phone-sized screen.
        driver.set_window_size(390, 844)
        driver.get(server.url + "/console/account")
        assert driver.execute_script("return document.documentElement.scrollWidth") <= 400, "the page scrolls sideways on a phone"
        driver.save_screenshot(str(SCREENSHOTS / "18-account-settings-phone.png"))

        # Signing out ends the session.
        driver.set_window_size(1280, 900)
        navigate(driver, driver.find_element(By.ID, "sign-out"))
        assert driver.current_url.endswith("/console/sign-in")
        driver.get(server.url + "/console/account")
        assert driver.current_url.endswith("/console/sign-in")
    finally:
        server.stop()
