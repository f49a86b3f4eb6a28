"""Command bodies: parse what typer gave, call the library, render the result."""
