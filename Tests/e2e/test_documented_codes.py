"""Every error code that README.md and docs/*.md list in a code table has a negative test.

Needs no server: it reads the documents and the test sources.

A code table is a Markdown table with a column headed `code` or `error`. The codes in it are the
backticked identifiers of that column (`token_expired`, `InvalidParameter.Audiences`) and, in the
TR50 table, the negative integers (-90020).

A code "has a test" when a test file other than this one (`Tests/e2e/test_*.py`,
`Tests/**/*Tests.swift`) holds it as a complete literal in an assertion: the string literal
`"token_expired"` (the integer -90020 for TR50) inside a Python `assert` statement or a Swift
`#expect(…)` / `#require(…)` or a call of an assertion helper (a function named `assert…` or
`expect…`), or in a literal table of cases (a tuple or list display in
Python; an array literal in Swift) that a test iterates and asserts. Comments, docstrings and
strings that merely contain the code (`"token_expired: …"`) do not count.
"""
import ast
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
THIS = Path(__file__).resolve()

# The documents that hold code tables today: each must yield codes, so a table whose header or
# cells are reformatted cannot silently make this test vacuous.
DOCUMENTS_WITH_CODE_TABLES = {"README.md", "docs/pam.md", "docs/tr50.md"}
CODE_COLUMN_HEADERS = {"code", "error"}
IDENTIFIER = re.compile(r"`([A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*)`")
TR50_CODE = re.compile(r"^-\d+$")


def documents():
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def split_row(line):
    """The cells of a Markdown table row (`\\|` is a pipe inside a cell)."""
    cells = re.split(r"(?<!\\)\|", line.strip())
    return [cell.strip() for cell in cells[1:-1]]


def code_tables(text):
    """Yields (header line number, code column index, [(line number, code cell)]) per code table."""
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        if not lines[index].lstrip().startswith("|"):
            index += 1
            continue
        start = index
        while index < len(lines) and lines[index].lstrip().startswith("|"):
            index += 1
        block = lines[start:index]
        if len(block) < 2 or not re.fullmatch(r"\|?(\s*:?-{3,}:?\s*\|)+\s*:?-*:?\s*\|?", block[1].strip()):
            continue
        header = [cell.strip("`").strip().lower() for cell in split_row(block[0])]
        columns = [position for position, name in enumerate(header) if name in CODE_COLUMN_HEADERS]
        for column in columns:
            rows = [(start + 3 + offset, split_row(row)) for offset, row in enumerate(block[2:])]
            yield start + 1, column, [(number, cells[column] if column < len(cells) else "") for number, cells in rows]


def codes_in_cell(cell):
    """The codes a code cell names: backticked identifiers, or a bare negative integer (TR50)."""
    if TR50_CODE.match(cell):
        return [int(cell)]
    return IDENTIFIER.findall(cell)


def documented_codes():
    """{document: {code: "document:line"}} for every code table of README.md and docs/*.md."""
    found = {}
    problems = []
    for path in documents():
        name = str(path.relative_to(ROOT))
        codes = {}
        for header_line, _, rows in code_tables(path.read_text()):
            for line, cell in rows:
                named = codes_in_cell(cell)
                if not named:
                    problems.append(f"{name}:{line}: a row of the code table at line {header_line} names no code: {cell!r}")
                for code in named:
                    codes.setdefault(code, f"{name}:{line}")
        found[name] = codes
    return found, problems


# --- Where the test sources assert a literal ---------------------------------------------------

def source_files():
    python = [path for path in sorted((ROOT / "Tests" / "e2e").glob("test_*.py")) if path.resolve() != THIS]
    swift = sorted((ROOT / "Tests").rglob("*Tests.swift"))
    return python, swift


def python_literals(path):
    """{literal: [line, …]} of the str and negative int literals in an assertion or a case table."""
    tree = ast.parse(path.read_text(), filename=str(path))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                docstrings.add(id(first.value))
    found = defaultdict(list)

    def visit(node, asserted):
        if isinstance(node, ast.Assert):
            asserted = True
        if isinstance(node, (ast.Tuple, ast.List)):
            asserted = True
        if isinstance(node, ast.Call):
            callee = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if re.match(r"(assert|expect)", callee, re.I):
                asserted = True
        if asserted and id(node) not in docstrings:
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found[node.value].append(node.lineno)
            if (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant)
                    and type(node.operand.value) is int):
                found[-node.operand.value].append(node.lineno)
        for child in ast.iter_child_nodes(node):
            visit(child, asserted)

    visit(tree, False)
    return found


SWIFT_TOKEN = re.compile(
    r'(?P<comment>//[^\n]*|/\*.*?\*/)'
    r'|(?P<raw>#".*?"#)'
    # A string literal; an interpolation `\(…)` may hold strings and one level of parentheses.
    r'|(?P<string>"(?:[^"\\\n]|\\\((?:[^()"\n]|"(?:[^"\\\n]|\\.)*"|\([^()\n]*\))*\)|\\.)*")'
    r'|(?P<expect>#(?:expect|require)\s*\()'
    r'|(?P<integer>-\d+\b)'
    r'|(?P<open>[(\[])|(?P<close>[)\]])',
    re.S,
)


def swift_literals(path):
    """{literal: [line, …]} of the string literals (and negative integers) in `#expect(…)`,
    `#require(…)` or an array literal (a table of cases). Comments are skipped; multi-line
    string literals ("\"\"\"…\"\"\"") never hold a code and are left alone."""
    text = re.sub(r'"""(?:.|\n)*?"""', lambda match: "\n" * match.group(0).count("\n"), path.read_text())
    found = defaultdict(list)
    stack = []  # one entry per open bracket: True when it is an assertion or an array literal
    for match in SWIFT_TOKEN.finditer(text):
        kind = match.lastgroup
        line = text.count("\n", 0, match.start()) + 1
        inside = any(stack)
        if kind == "expect":
            stack.append(True)
        elif kind == "open":
            before = text[:match.start()].rstrip()
            if match.group() == "[":
                # An array (or dictionary) literal, unless it subscripts what precedes it.
                stack.append(not before or before[-1] in "([{,:=" or re.search(r"\b(return|in)$", before) is not None)
            else:
                # A call of an assertion helper (`expectRefused(…)`, `assertCode(…)`).
                stack.append(re.search(r"\b(expect|assert)\w*$", before, re.I) is not None)
        elif kind == "close":
            if stack:
                stack.pop()
        elif kind == "string" and inside:
            found[match.group()[1:-1]].append(line)
        elif kind == "integer" and inside:
            found[int(match.group())].append(line)
    assert not stack, f"{path}: brackets do not balance; the literal finder misread this file"
    return found


def asserted_literals():
    """{literal: ["file:line", …]} over every test file."""
    where = defaultdict(list)
    python, swift = source_files()
    for path, reader in [*[(path, python_literals) for path in python], *[(path, swift_literals) for path in swift]]:
        for literal, lines in reader(path).items():
            where[literal] += [f"{path.relative_to(ROOT)}:{line}" for line in lines]
    return where


# --- The tests -----------------------------------------------------------------------------------

def test_every_document_with_a_code_table_yields_codes():
    found, problems = documented_codes()
    for name, codes in found.items():
        print(f"{name}: {len(codes)} documented codes")
    assert not problems, "\n".join(problems)
    empty = sorted(name for name in DOCUMENTS_WITH_CODE_TABLES if not found.get(name))
    assert not empty, f"no code found in the code tables of {empty}: was a table reformatted? (header `code` or `error`)"
    unexpected = sorted(name for name, codes in found.items() if codes and name not in DOCUMENTS_WITH_CODE_TABLES)
    assert not unexpected, f"{unexpected} now hold code tables: add them to DOCUMENTS_WITH_CODE_TABLES"


def test_the_table_parser_reads_what_the_tables_hold():
    """Known rows of each table, so a parser bug cannot hide codes."""
    found, _ = documented_codes()
    assert {"authorization_malformed", "basic_malformed", "alg_none", "pat_expired", "token_replayed"} <= set(found["README.md"])
    assert {"field_unknown", "InvalidParameter.Audiences", "InvalidParameter.Audiences.Reserved", "InvalidParameter.Expired",
            "Forbidden.InstanceMismatch", "ActionNotFound"} <= set(found["docs/pam.md"])
    assert {-22, -90001, -90020, -90021} <= set(found["docs/tr50.md"])
    # Nothing from the "when"/"meaning" columns (`WWW-Authenticate`, `urn:cloud:idaas`, `jku`).
    everything = set().union(*(set(codes) for codes in found.values()))
    assert not everything & {"jku", "x5u", "sub", "iss", "Authorization", "HS", "session.end", "exp"}


def test_the_literal_finder_counts_assertions_only(tmp_path):
    """A negative control for the finder: comments, docstrings, substrings and setup values do not count."""
    sample = tmp_path / "SampleTests.swift"
    sample.write_text('\n'.join([
        '// "in_comment"',
        'let body = lake.request(.post, "/api", body: "as_input")',
        '#expect(reply.code == "in_expect")',
        '#expect(reply.code == "with: suffix")',
        'static let cases: [(String, Int)] = [("in_table", -90020)]',
        'let x = dictionary["subscript_key"]',
        '#expect(codes == [-90021])',
        'Self.expectRefused(try await verify(lake, "Bearer x"), "in_helper")',
        'let y = describe("not_in_helper", offset: -22)',
        '#expect(header == #"Bearer realm="in_raw_string", error=("x""#)',
    ]))
    swift = swift_literals(sample)
    assert set(swift) == {"in_expect", "with: suffix", "in_table", -90020, -90021, "Bearer x", "in_helper"}, dict(swift)
    script = tmp_path / "test_sample.py"
    script.write_text('\n'.join([
        '"""docstring_code"""',
        '# "in_comment"',
        'def test_x():',
        '    """in_docstring"""',
        '    call("as_input")',
        '    assert reply["error"] == "in_assert"',
        '    cases = [(reply, 400, "in_table")]',
        '    assert code == -90020',
        '    value = -90021',
        '    assert_refused(reply, "in_helper")',
        '    requests.post(url, json={"name": "as_body"})',
    ]))
    python = python_literals(script)
    assert {"in_assert", "in_table", -90020, "in_helper"} <= set(python), dict(python)
    assert not {"docstring_code", "in_docstring", "as_input", "in_comment", -90021, "as_body"} & set(python), dict(python)


def test_every_documented_code_has_a_negative_test():
    found, _ = documented_codes()
    where = asserted_literals()
    missing = []
    for name, codes in found.items():
        untested = [code for code in codes if not where.get(code)]
        print(f"{name}: {len(codes)} codes, {len(codes) - len(untested)} asserted by a test")
        for code in codes:
            print(f"  {code!s:40} {codes[code]:20} {', '.join(where.get(code, [])[:3]) or 'NO TEST'}")
        missing += [f"{code} ({codes[code]})" for code in untested]
    assert not missing, "documented codes no test asserts: " + ", ".join(missing)
