from instructor_tui.cli import main

raise SystemExit(main())
