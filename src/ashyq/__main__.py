from ashyq.cli import main

raise SystemExit(main())
