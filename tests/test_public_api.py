import loyalty


def test_all_lists_exactly_the_public_names() -> None:
    public = {name for name in vars(loyalty) if not name.startswith("_")}
    modules = {name for name in public if type(getattr(loyalty, name)).__name__ == "module"}
    assert set(loyalty.__all__) - {"__version__"} == public - modules


def test_every_name_in_all_exists() -> None:
    missing = [name for name in loyalty.__all__ if not hasattr(loyalty, name)]
    assert missing == []


def test_the_package_is_typed() -> None:
    from importlib.resources import files

    assert files("loyalty").joinpath("py.typed").is_file()


def test_the_core_imports_no_store_cli_or_plotting_code() -> None:
    import subprocess
    import sys

    code = (
        "import sys, loyalty; "
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('sqlalchemy', 'psycopg', 'typer', 'rich', 'matplotlib')]; print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
