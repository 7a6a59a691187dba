"""Staff pages: queues, lists, the complaint page, and the operators\x27 pages."""
