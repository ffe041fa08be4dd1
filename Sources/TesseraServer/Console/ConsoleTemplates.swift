/// The console's Mustache templates (hummingbird-project/swift-mustache), compiled into the binary
/// so `tessera serve` needs no files beside it. Every page fills the `layout` parent; `{{x}}`
/// escapes HTML, and no template uses the unescaped form, so user data cannot become markup.
enum ConsoleTemplates {
    static let all: [String: String] = [
        "layout": layout, "sign-in": signIn, "account": account, "pat-new": patNew, "pat-created": patCreated,
        "key-new": keyNew, "key-generated": keyGenerated, "key-saved": keySaved, "confirm": confirm, "organization": organization,
        "admin": admin, "admin-users": adminUsers, "admin-applications": adminApplications, "admin-application-created": adminApplicationCreated,
        "admin-providers": adminProviders, "admin-tr50": adminTR50, "admin-audit": adminAudit, "admin-signing-keys": adminSigningKeys,
        "admin-pat-policy": adminPATPolicy,
        "how-to": howTo, "message": message, "admin-password-reset": adminPasswordReset, "change-password": changePassword,
        "list-search": listSearch, "pager": pager,
    ]

    static let layout = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{$title}}Tessera{{/title}} · Tessera console</title>
        <link rel="stylesheet" href="/console/static/console.css">
        <link rel="icon" href="/console/static/favicon.svg" type="image/svg+xml">
        <script src="/console/static/console.js" defer></script>
        </head>
        <body>
        <header class="bar">
          <a class="brand" href="/console/account">Tessera</a>
          {{#user}}
          <nav>
            <a href="/console/account">Account settings</a>
            <a href="/console/organization">Organization</a>
            {{#isAdmin}}<a href="/console/admin">Admin</a>{{/isAdmin}}
            <form method="post" action="/console/sign-out" class="inline">
              <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="form_token" value="{{formToken}}">
              <button type="submit" class="link" id="sign-out">Sign out {{username}}</button>
            </form>
          </nav>
          {{/user}}
        </header>
        <main>
        {{#inAdmin}}<nav class="subnav" aria-label="Administration" id="admin-nav">
          <ol class="breadcrumbs"><li><a href="/console/admin">Admin</a></li>{{#breadcrumb}}<li><a href="{{path}}" aria-current="page">{{title}}</a></li>{{/breadcrumb}}</ol>
          <ul>{{#adminNav}}<li><a href="{{path}}"{{#current}} aria-current="page" class="current"{{/current}}>{{title}}</a></li>{{/adminNav}}</ul>
        </nav>{{/inAdmin}}
        {{#notice}}<p class="notice" role="status">{{notice}}</p>{{/notice}}
        {{#error}}<p class="error" role="alert" id="error">{{error}}</p>{{/error}}
        {{$content}}{{/content}}
        </main>
        </body>
        </html>
        """

    static let signIn = """
        {{<layout}}
        {{$title}}Sign on{{/title}}
        {{$content}}
        <section class="card narrow">
          <h1>Sign on</h1>
          <form method="post" action="/console/sign-in">
            <input type="hidden" name="csrf" value="{{signOnToken}}">
            {{#next}}<input type="hidden" name="next" value="{{next}}">{{/next}}
            <label>Username <input name="username" id="username" autocomplete="username" required value="{{username}}"></label>
            <label>Password <input name="password" id="password" type="password" autocomplete="current-password" required></label>
            <button type="submit" id="sign-on">Sign on</button>
          </form>
          <p class="hint">After 8 failed attempts within 30 minutes the account is locked for 30 minutes.</p>
        </section>
        {{/content}}
        {{/layout}}
        """

    static let account = """
        {{<layout}}
        {{$title}}Account settings{{/title}}
        {{$content}}
        <h1>Account settings</h1>
        <p>Signed on as <strong>{{username}}</strong> in organization <strong>{{orgDomain}}</strong>. <a href="/console/account/password" id="change-password-link">Change password</a></p>
        <details class="menu">
          <summary id="create">Create</summary>
          <a href="/console/access-tokens/new" id="create-access-token">Access token</a>
          <a href="/console/keys/new" id="create-key">Key</a>
        </details>
        <section>
          <h2>Access tokens</h2>
          {{^pats}}<p class="empty">No access tokens yet.</p>{{/pats}}
          {{#hasPats}}
          <div class="scroll"><table id="pats">
            <thead><tr><th>Name</th><th>Environment</th><th>Status</th><th>Created</th><th>Expires</th><th>Last used</th><th></th></tr></thead>
            <tbody>
            {{#pats}}
            <tr data-name="{{name}}"><td>{{name}}{{#networks}}<br><small class="networks" title="allowed client networks">from {{networks}}</small>{{/networks}}</td><td>{{environment}}</td><td><span class="status {{status}}">{{status}}</span></td>
              <td>{{created}}</td><td>{{expires}}{{#expiringSoon}} <span class="status expiring" title="expires within 7 days: create a new token and move to it">in {{expiresInDays}}</span>{{/expiringSoon}}</td><td>{{lastUsed}}</td>
              <td>{{#active}}<a class="danger" href="/console/access-tokens/{{id}}/revoke">Revoke</a>{{/active}}</td></tr>
            {{/pats}}
            </tbody>
          </table></div>
          {{/hasPats}}
        </section>
        <section>
          <h2>Keys</h2>
          {{^keys}}<p class="empty">No keys yet.</p>{{/keys}}
          {{#hasKeys}}
          <div class="scroll"><table id="keys">
            <thead><tr><th>Name (kid)</th><th>Algorithm</th><th>Origin</th><th>Fingerprint</th><th>Created</th><th>Last used</th><th></th></tr></thead>
            <tbody>
            {{#keys}}
            <tr data-name="{{name}}"><td>{{name}}</td><td>{{algorithm}}</td><td>{{origin}}</td><td><code class="fingerprint">{{fingerprint}}</code></td>
              <td>{{created}}</td><td>{{lastUsed}}</td><td><a class="danger" href="/console/keys/{{name}}/delete">Delete</a></td></tr>
            {{/keys}}
            </tbody>
          </table></div>
          {{/hasKeys}}
        </section>
        {{/content}}
        {{/layout}}
        """

    static let patNew = """
        {{<layout}}
        {{$title}}Create access token{{/title}}
        {{$content}}
        <section class="card narrow">
          <h1>Create access token</h1>
          <form method="post" action="/console/access-tokens">
            <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="form_token" value="{{formToken}}">
            <label>Name <input name="name" id="pat-name" required maxlength="64" value="{{name}}"{{#error_pat_name}} aria-invalid="true" aria-describedby="error"{{/error_pat_name}}></label>{{#error_pat_name}}<p class="error field-error" role="alert" id="error">{{error_pat_name}}</p>{{/error_pat_name}}
            <label>Environment <input name="environment" id="pat-environment" list="environments" maxlength="64" value="{{environment}}"
              placeholder="the environment the token is for (optional)"{{#error_pat_environment}} aria-invalid="true" aria-describedby="error"{{/error_pat_environment}}></label>{{#error_pat_environment}}<p class="error field-error" role="alert" id="error">{{error_pat_environment}}</p>{{/error_pat_environment}}
            <datalist id="environments">{{#environments}}<option value="{{.}}">{{/environments}}</datalist>
            <label>Expires in (days) <input name="expires_in_days" id="pat-days" type="number" min="1" max="{{maxDays}}" value="{{days}}"{{#expiryRequired}} required{{/expiryRequired}}{{#error_pat_expires_in_days}} aria-invalid="true" aria-describedby="error"{{/error_pat_expires_in_days}}></label>{{#error_pat_expires_in_days}}<p class="error field-error" role="alert" id="error">{{error_pat_expires_in_days}}</p>{{/error_pat_expires_in_days}}
            <p class="hint">At most {{maxDays}} days; {{#expiryRequired}}your organization requires choosing the lifetime.{{/expiryRequired}}{{^expiryRequired}}{{defaultDays}} if left as is.{{/expiryRequired}}</p>
            <label>Allowed networks <input name="allowed_networks" id="pat-networks" maxlength="2000" value="{{networks}}"
              placeholder="e.g. 10.0.0.0/8, 2001:db8::/32 (optional)"{{#error_pat_allowed_networks}} aria-invalid="true" aria-describedby="error"{{/error_pat_allowed_networks}}></label>{{#error_pat_allowed_networks}}<p class="error field-error" role="alert" id="error">{{error_pat_allowed_networks}}</p>{{/error_pat_allowed_networks}}
            <p class="hint">The token works only from these client addresses (CIDR, separated by commas); empty: from anywhere.</p>
            <div class="actions"><button type="submit" id="save">Save</button> <a href="/console/account">Cancel</a></div>
          </form>
        </section>
        {{/content}}
        {{/layout}}
        """

    static let patCreated = """
        {{<layout}}
        {{$title}}Access token created{{/title}}
        {{$content}}
        <h1>Access token “{{name}}” created</h1>
        <section class="card secret">
          <p class="warning"><strong>Copy it now.</strong> This is the only time the token is shown: Tessera keeps only a keyed
          hash of it and cannot show it again. If you lose it, revoke it and create another.</p>
          <div class="secret-row"><code id="pat-secret">{{secret}}</code>
            <button type="button" data-copy="pat-secret" id="copy-pat">Copy</button></div>
          <p class="hint">Expires {{expires}}.</p>
        </section>
        {{>how-to}}
        <p><a href="/console/account" id="back">Back to account settings</a></p>
        {{/content}}
        {{/layout}}
        """

    static let keyNew = """
        {{<layout}}
        {{$title}}Create key{{/title}}
        {{$content}}
        <h1>Create key</h1>
        <div class="columns">
        <section class="card">
          <h2>Generate key pair</h2>
          <form method="post" action="/console/keys/generate">
            <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="form_token" value="{{formToken}}">
            {{#generateError}}<p class="error" role="alert" id="error">{{generateError}}</p>{{/generateError}}
            <label>Name <input name="name" id="key-name" required maxlength="64" pattern="[A-Za-z0-9._\\-]+" value="{{name}}"{{#error_generate_name}} aria-invalid="true" aria-describedby="error"{{/error_generate_name}}></label>{{#error_generate_name}}<p class="error field-error" role="alert" id="error">{{error_generate_name}}</p>{{/error_generate_name}}
            <label>Algorithm <select name="algorithm" id="key-algorithm"{{#error_generate_algorithm}} aria-invalid="true" aria-describedby="error"{{/error_generate_algorithm}}>
              {{#algorithms}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/algorithms}}</select></label>{{#error_generate_algorithm}}<p class="error field-error" role="alert" id="error">{{error_generate_algorithm}}</p>{{/error_generate_algorithm}}
            <button type="submit" id="generate">Generate private key</button>
          </form>
          <p class="hint">The name becomes the JWT <code>kid</code>. The private key is shown once, for you to download; Tessera keeps only the public key.</p>
        </section>
        <section class="card">
          <h2>Or paste a public key</h2>
          <form method="post" action="/console/keys">
            <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="form_token" value="{{formToken}}">
            {{#pasteError}}<p class="error" role="alert" id="error">{{pasteError}}</p>{{/pasteError}}
            <label>Name <input name="name" id="paste-name" required maxlength="64" pattern="[A-Za-z0-9._\\-]+" value="{{pasteName}}"{{#error_paste_name}} aria-invalid="true" aria-describedby="error"{{/error_paste_name}}></label>{{#error_paste_name}}<p class="error field-error" role="alert" id="error">{{error_paste_name}}</p>{{/error_paste_name}}
            <label>Public key (PEM) <textarea name="public_key_pem" id="public-key-pem" rows="7" required
              placeholder="-----BEGIN PUBLIC KEY-----"{{#error_paste_public_key_pem}} aria-invalid="true" aria-describedby="error"{{/error_paste_public_key_pem}}>{{pastePEM}}</textarea></label>{{#error_paste_public_key_pem}}<p class="error field-error" role="alert" id="error">{{error_paste_public_key_pem}}</p>{{/error_paste_public_key_pem}}
            <button type="submit" id="upload">Save</button>
          </form>
        </section>
        </div>
        {{/content}}
        {{/layout}}
        """

    static let keyGenerated = """
        {{<layout}}
        {{$title}}Download the private key{{/title}}
        {{$content}}
        <h1>Key pair “{{name}}” generated</h1>
        <section class="card secret">
          <p class="warning"><strong>Download the private key now</strong>, then click Save. It exists only in this page:
          Tessera does not keep it, and leaving the page without saving discards the pair.</p>
          <p><a class="button" id="download" download="{{name}}.pem" href="data:application/x-pem-file;base64,{{privateKeyBase64}}">Download {{name}}.pem</a></p>
          <details><summary>Show the private key</summary><pre id="private-key">{{privateKeyPEM}}</pre></details>
          <details><summary>Show the public key Tessera will keep</summary><pre id="public-key">{{publicKeyPEM}}</pre></details>
          <form method="post" action="/console/keys">
            <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="form_token" value="{{formToken}}">
            <input type="hidden" name="name" value="{{name}}">
            <input type="hidden" name="algorithm" value="{{algorithm}}">
            <input type="hidden" name="public_key_base64" value="{{publicKeyBase64}}">
            <input type="hidden" name="attestation" value="{{attestation}}">
            <button type="submit" id="save-key">Save</button> <a href="/console/account">Discard</a>
          </form>
        </section>
        {{/content}}
        {{/layout}}
        """

    static let keySaved = """
        {{<layout}}
        {{$title}}Key saved{{/title}}
        {{$content}}
        <h1>Key “{{name}}” saved</h1>
        <p>Fingerprint <code>{{fingerprint}}</code>, {{algorithm}}, {{origin}}.</p>
        {{>how-to}}
        <p><a href="/console/account" id="back">Back to account settings</a></p>
        {{/content}}
        {{/layout}}
        """

    /// The "how to use it" panel: commands filled in with the user's names, never a secret.
    static let howTo = """
        <section class="card how-to" id="how-to">
          <h2>How to use it</h2>
          <p>Sign a JWT with the key <strong>{{keyName}}</strong> and an access token, then send it as
          <code>Authorization: Bearer …</code>. Put the access token you copied in <code>PAT</code> (it is not shown again here).</p>
          {{^hasKey}}<p class="hint">You have no key yet: <a href="/console/keys/new">create one</a> named <strong>{{keyName}}</strong>.</p>{{/hasKey}}
          <h3>With the tessera CLI</h3>
          <pre id="how-to-cli">export PAT='paste the access token you saved'
        tessera token create --key {{keyName}}.pem --kid {{keyName}} --alg {{keyAlgorithm}} --pat "$PAT" --sub {{username}} --org {{orgDomain}}</pre>
          {{#postQuantum}}<h3>With Python (cryptography 48 or later: pyjwt has no ML-DSA)</h3>
          <pre id="how-to-python">import base64, json, time, requests
        from cryptography.hazmat.primitives.serialization import load_pem_private_key
        PAT = "paste the access token you saved"
        KEY_NAME = "{{keyName}}"
        def b64(data): return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
        header = {"alg": "{{keyAlgorithm}}", "kid": KEY_NAME, "typ": "JWT"}
        now = int(time.time())
        payload = {"aud": ["td:service:authentication"], "iat": now, "exp": now + 12 * 3600,
                   "iss": "console", "org_id": "{{orgDomain}}", "multi-use": True, "pat": PAT, "sub": "{{username}}"}
        signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(payload).encode())
        with open(f"{KEY_NAME}.pem", "rb") as key_file:
            key = load_pem_private_key(key_file.read(), password=None)
        token = signing_input + "." + b64(key.sign(signing_input.encode()))  # pure ML-DSA, empty context (RFC 9964)
        print(requests.get("{{baseURL}}/api/my-organization", headers={"Authorization": f"Bearer {token}"}).json())</pre>{{/postQuantum}}
          {{^postQuantum}}<h3>With Python (pyjwt), as in the Lake quickstart</h3>
          <pre id="how-to-python">import datetime, jwt, requests
        PAT = "paste the access token you saved"
        USER = "{{username}}"
        KEY_NAME = "{{keyName}}"
        ORG_ID = "{{orgDomain}}"
        header = {"alg": "{{keyAlgorithm}}", "kid": KEY_NAME, "typ": "JWT"}
        iat = datetime.datetime.now(datetime.timezone.utc)
        payload = {"aud": ["td:service:authentication"], "iat": iat, "exp": iat + datetime.timedelta(hours=12),
                   "iss": "console", "org_id": ORG_ID, "multi-use": True, "pat": PAT, "sub": USER}
        with open(f"{KEY_NAME}.pem") as key_file:
            token = jwt.encode(payload, key_file.read(), algorithm=header["alg"], headers=header)
        print(requests.get("{{baseURL}}/api/my-organization", headers={"Authorization": f"Bearer {token}"}).json())</pre>{{/postQuantum}}
        </section>
        """

    static let confirm = """
        {{<layout}}
        {{$title}}{{heading}}{{/title}}
        {{$content}}
        <section class="card narrow">
          <h1>{{heading}}</h1>
          <p>{{question}}</p>
          <form method="post" action="{{action}}">
            <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="form_token" value="{{formToken}}">
            {{#fields}}<input type="hidden" name="{{name}}" value="{{value}}">{{/fields}}
            {{#choice}}<label>{{label}} <select name="{{name}}" id="{{name}}">{{#options}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{text}}</option>{{/options}}</select></label>{{/choice}}
            <div class="actions"><button type="submit" class="danger" id="confirm">{{verb}}</button> <a href="{{back}}" id="cancel">Cancel</a></div>
          </form>
        </section>
        {{/content}}
        {{/layout}}
        """

    static let organization = """
        {{<layout}}
        {{$title}}Organization{{/title}}
        {{$content}}
        <h1>Organization {{orgName}}</h1>
        <p>Organization id (the <code>org_id</code> of your JWTs; the domain name <code>{{orgDomain}}</code> works too):</p>
        <div class="secret-row"><code id="org-id">{{orgID}}</code> <button type="button" data-copy="org-id">Copy</button></div>
        <h2>The document of <code>/api/my-organization</code></h2>
        <pre id="organization-document">{{document}}</pre>
        {{/content}}
        {{/layout}}
        """

    static let admin = """
        {{<layout}}
        {{$title}}Admin{{/title}}
        {{$content}}
        <h1>Administration of {{orgDomain}}</h1>
        <ul class="tiles">
          <li><a href="/console/admin/users">Users</a></li>
          <li><a href="/console/admin/applications">Applications</a></li>
          <li><a href="/console/admin/credential-providers">Credential providers</a></li>
          <li><a href="/console/admin/tr50">Roles and things</a></li>
          <li><a href="/console/admin/signing-keys">Server signing keys</a></li>
          <li><a href="/console/admin/pat-policy">PAT policy</a></li>
          <li><a href="/console/admin/audit">Audit log</a></li>
        </ul>
        {{/content}}
        {{/layout}}
        """

    static let adminUsers = """
        {{<layout}}
        {{$title}}Users{{/title}}
        {{$content}}
        <h1>Users</h1>
        {{>list-search}}
        <div class="scroll"><table id="users"><thead><tr><th>Username</th><th>Admin</th><th>Status</th><th>Created</th><th></th></tr></thead><tbody>
        {{#users}}<tr data-name="{{username}}"><td>{{username}}</td><td>{{#isAdmin}}yes{{/isAdmin}}{{^isAdmin}}no{{/isAdmin}}</td>
          <td>{{#disabledSince}}<span class="status disabled">disabled</span> since {{disabledSince}}{{/disabledSince}}{{^disabledSince}}<span class="status active">active</span>{{/disabledSince}}</td>
          <td>{{created}}</td>
          <td><a href="/console/admin/users/unlock?username={{usernameQuery}}" class="unlock">Unlock</a> ·
            <a href="/console/admin/users/password-reset?username={{usernameQuery}}" class="password-reset">Reset password</a>
            {{^isYou}} · {{#disabledSince}}<a href="/console/admin/users/enable?username={{usernameQuery}}" class="enable">Enable</a>{{/disabledSince}}{{^disabledSince}}<a href="/console/admin/users/disable?username={{usernameQuery}}" class="danger disable">Disable</a>{{/disabledSince}} ·
            <a href="/console/admin/users/delete?username={{usernameQuery}}" class="danger delete">Delete</a>{{/isYou}}</td></tr>{{/users}}
        </tbody></table></div>
        {{>pager}}
        <section class="card narrow"><h2>Add a user</h2>
          <form method="post" action="/console/admin/users">
            <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="form_token" value="{{formToken}}">
            <label>Username <input name="username" required maxlength="64" value="{{user_username}}"{{#error_user_username}} aria-invalid="true" aria-describedby="error"{{/error_user_username}}></label>{{#error_user_username}}<p class="error field-error" role="alert" id="error">{{error_user_username}}</p>{{/error_user_username}}
            <label>Password <input name="password" type="password" required minlength="8" autocomplete="new-password"{{#error_user_password}} aria-invalid="true" aria-describedby="error"{{/error_user_password}}></label>{{#error_user_password}}<p class="error field-error" role="alert" id="error">{{error_user_password}}</p>{{/error_user_password}}
            <label class="check"><input type="checkbox" name="is_admin" value="true"{{#user_is_admin}} checked{{/user_is_admin}}> Administrator</label>
            <button type="submit">Add user</button>
          </form></section>
        {{/content}}
        {{/layout}}
        """

    static let adminApplications = """
        {{<layout}}
        {{$title}}Applications{{/title}}
        {{$content}}
        <h1>Applications</h1>
        {{>list-search}}
        <div class="scroll"><table id="applications"><thead><tr><th>Name</th><th>Client id</th><th>Scopes</th><th>Key</th><th>Created</th><th>Previous secret</th><th></th></tr></thead><tbody>
        {{#applications}}<tr data-name="{{id}}"><td>{{name}}</td><td><code>{{id}}</code></td><td>{{scopes}}</td><td>{{key}}</td><td>{{created}}</td>
          <td class="previous-secret">{{#previousUntil}}works until {{previousUntil}}{{/previousUntil}}{{^previousUntil}}—{{/previousUntil}}</td>
          <td><a class="rotate-secret" href="/console/admin/applications/{{id}}/rotate-secret">Rotate secret</a> · <a class="danger" href="/console/admin/applications/{{id}}/delete">Delete</a></td></tr>{{/applications}}
        </tbody></table></div>
        {{>pager}}
        <section class="card narrow"><h2>Register an application</h2>
          <form method="post" action="/console/admin/applications">
            <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="form_token" value="{{formToken}}">
            <label>Name <input name="name" required maxlength="64" value="{{application_name}}"{{#error_application_name}} aria-invalid="true" aria-describedby="error"{{/error_application_name}}></label>{{#error_application_name}}<p class="error field-error" role="alert" id="error">{{error_application_name}}</p>{{/error_application_name}}
            <fieldset><legend>Scopes</legend>
            {{#knownScopes}}<label class="check"><input type="checkbox" name="scope" value="{{scope}}"{{#checked}} checked{{/checked}}> <code>{{scope}}</code></label>{{/knownScopes}}
            </fieldset>{{#error_application_scope}}<p class="error field-error" role="alert" id="error">{{error_application_scope}}</p>{{/error_application_scope}}
            <label>Public key for private_key_jwt (PEM, optional) <textarea name="public_key_pem" rows="4"{{#error_application_public_key_pem}} aria-invalid="true" aria-describedby="error"{{/error_application_public_key_pem}}>{{application_public_key_pem}}</textarea></label>{{#error_application_public_key_pem}}<p class="error field-error" role="alert" id="error">{{error_application_public_key_pem}}</p>{{/error_application_public_key_pem}}
            <button type="submit">Register</button>
          </form></section>
        {{/content}}
        {{/layout}}
        """

    /// A list page's search form and its page links (`ListQuery` gives `listPath`, `listNoun`,
    /// `q`, `matching`, `previous`, `next`).
    static let listSearch = """
        <form method="get" action="{{listPath}}" class="inline-form" id="list-search">
          <label>Search {{listNoun}} <input name="q" value="{{q}}" maxlength="100"></label> <button type="submit">Search</button> <span class="hint">{{matching}}</span>
        </form>
        """

    static let pager = """
        <p class="pager">{{#previous}}<a href="{{previous}}" id="previous-page">Previous</a>{{/previous}} {{#next}}<a href="{{next}}" id="next-page">Next</a>{{/next}}</p>
        """

    static let adminPasswordReset = """
        {{<layout}}
        {{$title}}Password reset{{/title}}
        {{$content}}
        <h1>New password for “{{username}}”</h1>
        <section class="card secret">
          <p class="warning"><strong>Hand this password to {{username}} now</strong>, over a channel only they read: it is shown this
          once, and Tessera keeps only its hash. Their old password no longer works, and the account is unlocked.</p>
          <div class="secret-row"><code id="new-password">{{password}}</code> <button type="button" data-copy="new-password">Copy</button></div>
        </section>
        <p><a href="/console/admin/users">Back to users</a></p>
        {{/content}}
        {{/layout}}
        """

    static let changePassword = """
        {{<layout}}
        {{$title}}Change password{{/title}}
        {{$content}}
        <section class="card narrow">
          <h1>Change your password</h1>
          <form method="post" action="/console/account/password">
            <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="form_token" value="{{formToken}}">
            <label>Current password <input name="current_password" id="current-password" type="password" required autocomplete="current-password"{{#error_password_current_password}} aria-invalid="true" aria-describedby="error"{{/error_password_current_password}}></label>{{#error_password_current_password}}<p class="error field-error" role="alert" id="error">{{error_password_current_password}}</p>{{/error_password_current_password}}
            <label>New password (8 to 72 bytes) <input name="new_password" id="new-password" type="password" required minlength="8" autocomplete="new-password"{{#error_password_new_password}} aria-invalid="true" aria-describedby="error"{{/error_password_new_password}}></label>{{#error_password_new_password}}<p class="error field-error" role="alert" id="error">{{error_password_new_password}}</p>{{/error_password_new_password}}
            <label>New password again <input name="repeat_password" id="repeat-password" type="password" required minlength="8" autocomplete="new-password"{{#error_password_repeat_password}} aria-invalid="true" aria-describedby="error"{{/error_password_repeat_password}}></label>{{#error_password_repeat_password}}<p class="error field-error" role="alert" id="error">{{error_password_repeat_password}}</p>{{/error_password_repeat_password}}
            <div class="actions"><button type="submit" id="change-password">Change password</button> <a href="/console/account">Cancel</a></div>
          </form>
        </section>
        {{/content}}
        {{/layout}}
        """

    static let adminApplicationCreated = """
        {{<layout}}
        {{$title}}Application registered{{/title}}
        {{$content}}
        {{#rotated}}<h1>New secret for application “{{name}}”</h1>{{/rotated}}{{^rotated}}<h1>Application “{{name}}” registered</h1>{{/rotated}}
        <section class="card secret">
          <p>Client id <code id="client-id">{{id}}</code></p>
          {{#rotated}}<p id="previous-secret">{{#previousUntil}}The previous secret keeps working until {{previousUntil}}; then only this one works.{{/previousUntil}}{{^previousUntil}}The previous secret no longer works.{{/previousUntil}}</p>{{/rotated}}
          <p class="warning"><strong>Copy the client secret now</strong>: it is shown this once.</p>
          <div class="secret-row"><code id="client-secret">{{secret}}</code> <button type="button" data-copy="client-secret">Copy</button></div>
        </section>
        <p><a href="/console/admin/applications">Back to applications</a></p>
        {{/content}}
        {{/layout}}
        """

    static let adminProviders = """
        {{<layout}}
        {{$title}}Credential providers{{/title}}
        {{$content}}
        <h1>Credential providers</h1>
        {{>list-search}}
        <div class="scroll"><table id="providers"><thead><tr><th>Name</th><th>Id</th><th>Issuer</th><th>Also allowed</th><th>Default / maximum validity (s)</th></tr></thead><tbody>
        {{#providers}}<tr><td>{{name}}</td><td><code>{{id}}</code></td><td>{{issuer}}</td><td>{{whitelist}}</td><td>{{defaultValidity}} / {{maximumValidity}}</td></tr>{{/providers}}
        </tbody></table></div>
        {{>pager}}
        <section class="card narrow"><h2>Add a credential provider</h2>
          <form method="post" action="/console/admin/credential-providers">
            <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="form_token" value="{{formToken}}">
            <label>Name <input name="name" required maxlength="64" value="{{provider_name}}"{{#error_provider_name}} aria-invalid="true" aria-describedby="error"{{/error_provider_name}}></label>{{#error_provider_name}}<p class="error field-error" role="alert" id="error">{{error_provider_name}}</p>{{/error_provider_name}}
            <label>Issuer <input name="issuer" required maxlength="256" placeholder="https://pam.example.com" value="{{provider_issuer}}"{{#error_provider_issuer}} aria-invalid="true" aria-describedby="error"{{/error_provider_issuer}}></label>{{#error_provider_issuer}}<p class="error field-error" role="alert" id="error">{{error_provider_issuer}}</p>{{/error_provider_issuer}}
            <label>Other allowed issuers (one per line) <textarea name="issuer_whitelist" rows="2"{{#error_provider_issuer_whitelist}} aria-invalid="true" aria-describedby="error"{{/error_provider_issuer_whitelist}}>{{provider_issuer_whitelist}}</textarea></label>{{#error_provider_issuer_whitelist}}<p class="error field-error" role="alert" id="error">{{error_provider_issuer_whitelist}}</p>{{/error_provider_issuer_whitelist}}
            <label>Default validity (s) <input name="default_validity" type="number" min="60" value="{{provider_default_validity}}"{{#error_provider_default_validity}} aria-invalid="true" aria-describedby="error"{{/error_provider_default_validity}}></label>{{#error_provider_default_validity}}<p class="error field-error" role="alert" id="error">{{error_provider_default_validity}}</p>{{/error_provider_default_validity}}
            <label>Maximum validity (s) <input name="maximum_validity" type="number" min="60" value="{{provider_maximum_validity}}"{{#error_provider_maximum_validity}} aria-invalid="true" aria-describedby="error"{{/error_provider_maximum_validity}}></label>{{#error_provider_maximum_validity}}<p class="error field-error" role="alert" id="error">{{error_provider_maximum_validity}}</p>{{/error_provider_maximum_validity}}
            <button type="submit">Add</button>
          </form></section>
        {{/content}}
        {{/layout}}
        """

    static let adminTR50 = """
        {{<layout}}
        {{$title}}Roles and things{{/title}}
        {{$content}}
        <h1>Roles and things (TR50)</h1>
        {{>list-search}}
        <h2>Roles</h2>
        <div class="scroll"><table id="roles"><thead><tr><th>Key</th><th>Commands</th><th>View tags</th><th>Update tags</th><th></th></tr></thead><tbody>
        {{#roles}}<tr data-name="{{key}}"><td>{{key}}</td><td>{{commands}}</td><td>{{viewTags}}</td><td>{{updateTags}}</td>
          <td><a class="danger" href="/console/admin/tr50/roles/delete?key={{keyQuery}}">Delete</a></td></tr>{{/roles}}
        </tbody></table></div>
        <section class="card narrow"><h2>Add a role</h2>
          <form method="post" action="/console/admin/tr50/roles">
            <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="form_token" value="{{formToken}}">
            <label>Key <input name="key" required maxlength="{{keyLength}}" value="{{role_key}}"{{#error_role_key}} aria-invalid="true" aria-describedby="error"{{/error_role_key}}></label>{{#error_role_key}}<p class="error field-error" role="alert" id="error">{{error_role_key}}</p>{{/error_role_key}}
            <label>Commands (space-separated, wildcards like <code>thing.*</code>) <input name="commands" required value="{{role_commands}}"{{#error_role_commands}} aria-invalid="true" aria-describedby="error"{{/error_role_commands}}></label>{{#error_role_commands}}<p class="error field-error" role="alert" id="error">{{error_role_commands}}</p>{{/error_role_commands}}
            <label>View tags (space-separated) <input name="view_tags" value="{{role_view_tags}}"{{#error_role_view_tags}} aria-invalid="true" aria-describedby="error"{{/error_role_view_tags}}></label>{{#error_role_view_tags}}<p class="error field-error" role="alert" id="error">{{error_role_view_tags}}</p>{{/error_role_view_tags}}
            <label>Update tags (space-separated) <input name="update_tags" value="{{role_update_tags}}"{{#error_role_update_tags}} aria-invalid="true" aria-describedby="error"{{/error_role_update_tags}}></label>{{#error_role_update_tags}}<p class="error field-error" role="alert" id="error">{{error_role_update_tags}}</p>{{/error_role_update_tags}}
            <button type="submit">Add role</button>
          </form></section>
        <h2>Things</h2>
        <div class="scroll"><table id="things"><thead><tr><th>Key</th><th>Id</th><th>Name</th><th>Tags</th><th>Security tags</th><th></th></tr></thead><tbody>
        {{#things}}<tr data-name="{{key}}"><td>{{key}}</td><td><code>{{id}}</code></td><td>{{name}}</td><td>{{tags}}</td><td>{{secTags}}</td>
          <td><a class="danger" href="/console/admin/tr50/things/delete?id={{id}}">Delete</a></td></tr>{{/things}}
        </tbody></table></div>
        {{>pager}}
        <section class="card narrow"><h2>Add a thing</h2>
          <form method="post" action="/console/admin/tr50/things">
            <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="form_token" value="{{formToken}}">
            <label>Key <input name="key" required maxlength="{{keyLength}}" value="{{thing_key}}"{{#error_thing_key}} aria-invalid="true" aria-describedby="error"{{/error_thing_key}}></label>{{#error_thing_key}}<p class="error field-error" role="alert" id="error">{{error_thing_key}}</p>{{/error_thing_key}}
            <label>Name <input name="name" maxlength="{{nameLength}}" value="{{thing_name}}"{{#error_thing_name}} aria-invalid="true" aria-describedby="error"{{/error_thing_name}}></label>{{#error_thing_name}}<p class="error field-error" role="alert" id="error">{{error_thing_name}}</p>{{/error_thing_name}}
            <label>Tags (space-separated) <input name="tags" value="{{thing_tags}}"{{#error_thing_tags}} aria-invalid="true" aria-describedby="error"{{/error_thing_tags}}></label>{{#error_thing_tags}}<p class="error field-error" role="alert" id="error">{{error_thing_tags}}</p>{{/error_thing_tags}}
            <label>Security tags (space-separated) <input name="sec_tags" value="{{thing_sec_tags}}"{{#error_thing_sec_tags}} aria-invalid="true" aria-describedby="error"{{/error_thing_sec_tags}}></label>{{#error_thing_sec_tags}}<p class="error field-error" role="alert" id="error">{{error_thing_sec_tags}}</p>{{/error_thing_sec_tags}}
            <button type="submit">Add thing</button>
          </form></section>
        {{/content}}
        {{/layout}}
        """

    static let adminAudit = """
        {{<layout}}
        {{$title}}Audit log{{/title}}
        {{$content}}
        <h1>Audit log</h1>
        <p class="hint">Newest first. Times are UTC, to the second.</p>
        <form method="get" action="/console/admin/audit" class="inline-form filters" id="audit-filters">
          <label>Action <select name="action"><option value="">any</option>
            {{#actions}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{value}}</option>{{/actions}}</select></label>
          <label>Outcome <select name="outcome"><option value="">any</option>
            {{#outcomes}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{value}}</option>{{/outcomes}}</select></label>
          <label>Actor <select name="actor"><option value="">anyone</option>
            {{#actors}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{value}}</option>{{/actors}}</select></label>
          <label>Containing <input name="q" value="{{q}}" maxlength="100" placeholder="a name, an id, a reason"></label>
          <button type="submit">Filter</button>{{#filtered}} <a href="/console/admin/audit" id="clear-filters">Clear</a>{{/filtered}}
        </form>
        <div class="scroll"><table id="audit"><thead><tr><th>When (UTC)</th><th>Actor</th><th>Action</th><th>Target</th><th>Outcome</th><th>Reason</th></tr></thead><tbody>
        {{#events}}<tr><td>{{when}}</td><td>{{actor}}</td><td>{{action}}</td><td>{{target}}{{#targetName}} <span class="hint">({{targetName}})</span>{{/targetName}}</td><td><span class="status {{outcome}}">{{outcome}}</span> {{count}}</td><td>{{reason}}</td></tr>{{/events}}
        </tbody></table></div>
        {{^events}}<p class="empty">No events match.</p>{{/events}}
        {{#next}}<p><a href="{{next}}" id="next-page">Older events</a></p>{{/next}}
        {{/content}}
        {{/layout}}
        """

    static let adminSigningKeys = """
        {{<layout}}
        {{$title}}Server signing keys{{/title}}
        {{$content}}
        <h1>Server signing keys</h1>
        <div class="scroll"><table id="signing-keys"><thead><tr><th>kid</th><th>Algorithm</th><th>Status</th><th>Created</th><th>Retired</th><th>Verifies until</th></tr></thead><tbody>
        {{#keys}}<tr><td><code>{{kid}}</code></td><td>{{algorithm}}</td><td><span class="status {{status}}">{{status}}</span></td><td>{{created}}</td><td>{{retired}}</td><td>{{verifyUntil}}</td></tr>{{/keys}}
        </tbody></table></div>
        <form method="post" action="/console/admin/signing-keys/rotate" class="card narrow">
          <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="form_token" value="{{formToken}}">
          <label>Algorithm of the new key <select name="algorithm"><option>ES256</option><option>RS256</option><option>PS256</option><option>EdDSA</option><option>ML-DSA-65</option><option>ML-DSA-87</option></select></label>
          <button type="submit">Rotate now</button>
          <p class="hint">The current key keeps verifying the tokens it signed until they expire.</p>
        </form>
        {{/content}}
        {{/layout}}
        """

    static let adminPATPolicy = """
        {{<layout}}
        {{$title}}PAT policy{{/title}}
        {{$content}}
        <h1>PAT policy</h1>
        <p id="pat-policy">Maximum lifetime: <strong>{{maximum}}</strong>. Expiry {{#expiryRequired}}<strong>required</strong>: users must choose each
          PAT's lifetime{{/expiryRequired}}{{^expiryRequired}}not required: a PAT gets the server's default lifetime unless its user chooses one{{/expiryRequired}}.</p>
        <form method="post" action="/console/admin/pat-policy" class="card narrow">
          <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="form_token" value="{{formToken}}">
          <label>Maximum lifetime (days) <input name="max_lifetime_days" id="policy-max-days" type="number" min="1" max="{{serverMaxDays}}" value="{{policy_max_lifetime_days}}"
            placeholder="none"{{#error_policy_max_lifetime_days}} aria-invalid="true" aria-describedby="error"{{/error_policy_max_lifetime_days}}></label>{{#error_policy_max_lifetime_days}}<p class="error field-error" role="alert" id="error">{{error_policy_max_lifetime_days}}</p>{{/error_policy_max_lifetime_days}}
          <label class="check"><input type="checkbox" name="expiry_required" value="true" id="policy-expiry-required"{{#expiryRequired}} checked{{/expiryRequired}}> Users must choose each PAT's lifetime</label>
          <button type="submit" id="save-policy">Save</button>
          <p class="hint">1 to {{serverMaxDays}} days, or empty for no maximum beyond the server's. A new maximum also shortens every existing PAT
            of the organization that would live longer, to that many days after its creation: older ones stop working at once.</p>
        </form>
        {{/content}}
        {{/layout}}
        """

    static let message = """
        {{<layout}}
        {{$title}}{{heading}}{{/title}}
        {{$content}}
        <section class="card narrow"><h1>{{heading}}</h1><p class="error" role="alert" id="error">{{text}}</p><p><a href="{{back}}">{{backLabel}}</a></p></section>
        {{/content}}
        {{/layout}}
        """
}
