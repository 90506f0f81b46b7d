from floss.cli import main

raise SystemExit(main())
