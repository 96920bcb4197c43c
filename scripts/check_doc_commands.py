#!/usr/bin/env python3
"""Every command line in the docs, held against the programs it runs.

  check_doc_commands.py BUILD_DIR SOURCE_DIR [--verbose]

Reads the shell blocks (```sh, ```bash, ```shell; ```console lines after "$ ")
of README.md, docs/ (the tutorial included), bench/README.md and
examples/*/README.md, and the `code spans` of their text that start with a
program or script of the project (a span that only names a program or a
subcommand is a name: it is not held to the required arguments). Each command (pipelines, &&, ; and ( ) split; leading
VAR=value, nice, time, env, sudo and mpirun's own options skipped) that runs
a program or script of the project is checked:

  * the program exists where the page says: a built program under build/
    (the README's build folder; another build-*/ folder only where the same
    page shows how it is made with `meson setup`), a bare program name
    (translate, speech, ...) among the built examples, a script in the
    repository, executable when it is run directly;
  * its subcommand exists, and every flag it is given is one of that
    subcommand's flags, as the program's own --help lists them (CLI11 and
    argparse help read; a shell script must name the flag in its text);
  * the options --help marks REQUIRED are given, and as many positional
    arguments as are required (a command written with "..." is a fragment:
    its flags are checked, not what it lacks).

Prints one line per problem (page:line, the command, what is wrong) and
"N commands checked, N problems"; exits 1 on any problem. Commands that need
a trained model or data are not run: only --help is.
"""
import argparse
import functools
import pathlib
import re
import shlex
import subprocess
import sys

# Built programs by the bare name the docs use for them (their folder under the build dir).
PROGRAMS = {
    "translate": "examples/translate/translate",
    "speech": "examples/speech",
    "language_model": "examples/language_model",
    "time_series": "examples/time_series",
    "bleu": "examples/bleu",
    "classifier": "examples/classifier",
    "attention_translate": "examples/attention_translate",
    "fashion_mnist": "examples/fashion_mnist",
    "xor_mlp": "examples/xor_mlp",
    "fit_line": "examples/fit_line",
    "tied_lm": "examples/tied_lm",
    "tiny_gpt": "examples/tiny_gpt",
    "transformer_reverse": "examples/transformer_reverse",
}
SCRIPT_FOLDERS = ("scripts/", "bench/", "tests/", "examples/", ".ci/")
WRAPPERS = {"nice", "time", "env", "sudo", "exec", "nohup", "command"}
INTERPRETERS = {"bash", "sh", "python3", "python", "/usr/bin/python3"}
MPIRUN_VALUE_OPTIONS = {"-np", "-n", "-x", "-H", "--host", "--map-by", "--bind-to", "--hostfile", "-N"}
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def pages(source):
    found = [source / "README.md", source / "bench/README.md"]
    found += sorted((source / "docs").rglob("*.md"))
    found += sorted((source / "examples").glob("*/README.md"))
    return [p for p in found if p.exists()]


def shell_lines(text):
    """(line number, command text) of each shell block's commands, continuations joined."""
    out = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        fence = re.match(r"^\s*```\s*(sh|bash|shell|console)\s*$", lines[i])
        if not fence:
            i += 1
            continue
        console = fence.group(1) == "console"
        i += 1
        pending, start = "", 0
        while i < len(lines) and not re.match(r"^\s*```", lines[i]):
            line = lines[i]
            if console:
                line = line.strip()[2:] if line.strip().startswith("$ ") else ""
            if not pending:
                start = i + 1
            if line.rstrip().endswith("\\"):
                pending += line.rstrip()[:-1] + " "
            else:
                pending += line
                if pending.strip():
                    out.append((start, pending.strip()))
                pending = ""
            i += 1
        i += 1
    return out


def inline_commands(text):
    """(line number, text) of each `code span` outside blocks that starts like a command of the project.
    A span may run over a line break within its paragraph."""
    out, prose, in_block = [], [], False
    for line in text.split("\n"):
        if re.match(r"^\s*```", line):
            in_block = not in_block
            prose.append("")
            continue
        prose.append("" if in_block else line)
    joined = "\n".join(prose)
    for match in re.finditer(r"`([^`]+)`", joined):
        span = match.group(1)
        if "\n\n" in span:
            continue
        words = span.split()
        while words and (ASSIGNMENT.match(words[0]) or words[0] in INTERPRETERS or words[0] in WRAPPERS):
            words.pop(0)
        if not words:
            continue
        first = words[0][2:] if words[0].startswith("./") else words[0]
        if (first in PROGRAMS or first.startswith("bench_") or re.match(r"^build[^/]*/", first)
                or re.match(r"^(scripts|bench|tests)/\S+\.(sh|py)$", first) or re.match(r"^bench/bench_", first)):
            out.append((joined.count("\n", 0, match.start()) + 1, " ".join(span.split())))
    return out


def simple_commands(command):
    """The words of each simple command of a shell line (comments dropped)."""
    try:
        lexer = shlex.shlex(command, posix=True, punctuation_chars=";&|()<>")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        tokens = list(lexer)
    except ValueError:
        return []
    commands, current = [], []
    for token in tokens:
        if token and set(token) <= set(";&|()<>"):
            if current:
                commands.append(current)
            current = []
            if token in (">", ">>", "<", "2>", "&>"):  # a redirection: its target is not an argument
                current = ["__redirect__"]
            continue
        if current == ["__redirect__"]:
            current = []
            continue
        current.append(token)
    if current and current != ["__redirect__"]:
        commands.append(current)
    return commands


def strip_prefixes(words):
    """The program word and its arguments, past assignments, wrappers and mpirun's options; via: interpreter."""
    words = list(words)
    via = None
    while words:
        w = words[0]
        if ASSIGNMENT.match(w) or w in WRAPPERS:
            words.pop(0)
        elif w == "timeout":
            words = words[2:]
        elif w == "mpirun":
            words.pop(0)
            while words and words[0].startswith("-"):
                option = words.pop(0)
                if option in MPIRUN_VALUE_OPTIONS and words:
                    words.pop(0)
        elif w in INTERPRETERS and len(words) > 1 and not words[1].startswith("-"):
            via = w
            words.pop(0)
            break
        else:
            break
    return words, via


@functools.lru_cache(maxsize=None)
def help_text(argv):
    try:
        r = subprocess.run(list(argv) + ["--help"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, str(e)
    return r.stdout + r.stderr, None


class Interface:
    """What one (sub)command's --help says it takes."""

    def __init__(self, text):
        self.options, self.takes_value, self.many, self.required = set(), set(), set(), []
        self.subcommands, self.positionals = [], []
        section = ""
        for line in text.split("\n"):
            header = re.match(r"^(Options|Subcommands|Positionals|positional arguments|options|optional arguments):", line)
            if header:
                section = header.group(1).lower()
                continue
            if not line.startswith("  ") or not line.strip():
                continue
            body = line.strip()
            if section == "subcommands":
                self.subcommands.append(body.split()[0])
            elif section in ("positionals", "positional arguments") and line.startswith("  ") and not line.startswith("    "):
                name = body.split()[0]
                if re.match(r"^\{.*\}$", name):  # argparse's subparsers
                    self.subcommands += name[1:-1].split(",")
                else:
                    self.positionals.append((name, "REQUIRED" in body or section == "positional arguments"))
            elif body.startswith("-"):
                self._option(body)

    def _option(self, body):
        # CLI11: "-s,--long TEXT:{a,b}=x REQUIRED  help"; argparse: "-s, --long VALUE  help".
        head = re.split(r"\s{2,}", body, maxsplit=1)[0]
        names_part, _, rest = head.partition(" ")
        names = [n.strip() for n in re.split(r",\s*", names_part) if n.strip()]
        if "," in names_part and " " in head and re.match(r"^-", rest.strip()):  # argparse "-s, --long VALUE"
            second, _, rest = rest.strip().partition(" ")
            names.append(second)
        clean = []
        for n in names:
            n = re.sub(r"\{.*\}$", "", n).lstrip("!")
            if n.startswith("-"):
                clean.append(n)
        self.options.update(clean)
        value = rest.strip()
        if value and not value.startswith("{") and value != "Excludes:":
            self.takes_value.update(clean)
            if "..." in value or "x 2" in value:
                self.many.update(clean)
        if "REQUIRED" in body:
            self.required.append(clean)


def interface_of(argv):
    text, error = help_text(tuple(argv))
    if text is None:
        return None, error
    return Interface(text), None


def check_program(binary_argv, args, display, allow_missing, name=None):
    """Problems with `args` given to the program whose argv prefix is binary_argv (`name` in messages)."""
    problems = []
    name = name or display.split()[0]
    top, error = interface_of(binary_argv)
    if top is None:
        return [f"`{display}` does not run: {error}"]
    interface, argv, rest = top, list(binary_argv), list(args)
    if top.subcommands:
        if not rest or rest[0] in ("-h", "--help"):
            return problems
        if rest[0].startswith("-") or rest[0] not in top.subcommands:
            return [f"`{name}`: {rest[0]} is not a subcommand (its --help lists {', '.join(top.subcommands)})"]
        argv.append(rest.pop(0))
        name = f"{name} {argv[-1]}"
        sub, error = interface_of(argv)
        if sub is None:
            return [f"`{name}` does not run: {error}"]
        sub.options |= top.options
        interface = sub
    fragment = False  # "..." where an argument would stand: the command is shortened
    positionals, i = [], 0
    given = set()
    while i < len(rest):
        a = rest[i]
        if a == "--":
            positionals += rest[i + 1:]
            break
        if a.startswith("-") and len(a) > 1 and not re.match(r"^-\d", a):
            option = a.split("=", 1)[0]
            if option not in interface.options:
                problems.append(f"`{name}`: no option {option} (its --help)")
            given.add(option)
            if "=" not in a and option in interface.takes_value:
                i += 1
                if option in interface.many:
                    while i + 1 < len(rest) and not rest[i + 1].startswith("-"):
                        i += 1
        elif a == "..." or a.endswith("..."):
            fragment = True
        else:
            positionals.append(a)
        i += 1
    if not fragment and not allow_missing:
        for names in interface.required:
            if not given & set(names):
                problems.append(f"`{name}`: the required option {names[-1]} is missing")
        required = [n for n, r in interface.positionals if r]
        if len(positionals) < len(required):
            problems.append(f"`{name}`: required argument(s) {' '.join(required[len(positionals):])} missing")
    return problems


def check_script(path, via, args, display, inline):
    problems = []
    if inline and not args:  # a span naming the script: that it exists is all it claims
        return problems
    if via is None and not (path.stat().st_mode & 0o111):
        problems.append(f"`{display}` is run directly but is not executable (chmod +x, or run it with bash/python3)")
    text = path.read_text(errors="replace")
    if path.suffix == ".py" and "argparse" in text:
        python = "/usr/bin/python3" if pathlib.Path("/usr/bin/python3").exists() else "python3"  # Debian's: torch
        text, _ = help_text((python, str(path)))
        missing = re.search(r"ModuleNotFoundError: No module named '([^']+)'", text or "")
        if missing:  # a script of the PyTorch side on a machine without python3-torch: its flags cannot be read
            print(f"note: {display.split()[0]} --help needs the Python module {missing.group(1)}, not here: "
                  f"its flags are not checked")
            return problems
        return problems + check_program((python, str(path)), args, display, False, display.split()[0])
    for a in args:
        if a.startswith("--"):
            name = a.split("=", 1)[0]
            if name not in text:
                problems.append(f"`{display}`: the script has no option {name}")
    return problems


def declared(source, relative):
    """Whether SOURCE/<folder>/meson.build declares the executable build/<folder>/<name>."""
    path = pathlib.PurePosixPath(relative)
    meson = source / path.parent / "meson.build"
    return meson.exists() and re.search(rf"executable\(\s*'{re.escape(path.name)}'", meson.read_text()) is not None


def check_built(build, source, relative, args, shown, inline, word):
    """A built program at build/<relative>: run with --help when the command gives it arguments."""
    binary = build / relative
    if not binary.exists():
        if declared(source, relative):
            return []  # declared, not built in this build (an option off: -Dmpi, -Dcuda)
        return [f"`{shown}`: {relative} is not a program of the build (no meson.build declares it there)"]
    if not binary.is_file() or not args:  # a name, or a run without arguments: nothing to hold against --help
        return []
    return check_program((str(binary),), args, shown, mention(inline, args), word)


def mention(inline, args):
    """A code span naming a program or subcommand without arguments is a name, not a command to complete."""
    return inline and len([a for a in args if not a.startswith("-")]) <= 1 and not any(a.startswith("-") for a in args)


def check_page(page, build, source, problems_out):
    checked = 0
    text = page.read_text()
    made_folders = set(re.findall(r"meson setup\s+(?:--\S+\s+)*(\S+)", text))
    commands = [(n, c, False) for n, c in shell_lines(text)] + [(n, c, True) for n, c in inline_commands(text)]
    for line_no, command, inline in commands:
        for words in simple_commands(command):
            words, via = strip_prefixes(words)
            if not words:
                continue
            word = words[0]
            args = words[1:]
            where = f"{page.relative_to(source)}:{line_no}"
            shown = " ".join([word] + args)
            program = word[2:] if word.startswith("./") else word
            folder = re.match(r"^(build[^/]*)/(.+)$", program)
            problems = []
            if folder:
                if folder.group(1) != "build" and folder.group(1) not in made_folders:
                    problems.append(f"`{shown}`: the folder {folder.group(1)}/ is made nowhere on this page "
                                    f"(the README's build folder is build/)")
                else:
                    problems += check_built(build, source, folder.group(2), args, shown, inline, word)
            elif program in PROGRAMS or program.startswith("bench_"):
                problems += check_built(build, source, PROGRAMS.get(program, f"bench/{program}"), args, shown, inline,
                                        word)
            elif program.startswith(SCRIPT_FOLDERS) and not program.endswith((".cpp", ".h", ".md")):
                path = source / program
                if not path.exists():
                    problems.append(f"`{shown}`: {program} does not exist")
                elif path.is_file():
                    problems += check_script(path, via, args, shown, inline)
            else:
                continue
            checked += 1
            problems_out += [f"{where}: {p}" for p in problems]
    return checked


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("build")
    parser.add_argument("source")
    parser.add_argument("--verbose", action="store_true", help="list every page's count")
    o = parser.parse_args()
    build, source = pathlib.Path(o.build).resolve(), pathlib.Path(o.source).resolve()
    problems, checked = [], 0
    for page in pages(source):
        n = check_page(page, build, source, problems)
        if o.verbose:
            print(f"{page.relative_to(source)}: {n} commands")
        checked += n
    for p in problems:
        print(p)
    print(f"{checked} commands checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
