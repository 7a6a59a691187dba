"""The customer's pages (no account): the public complaint form and their signed link."""
