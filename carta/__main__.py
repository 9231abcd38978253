import sys

from carta.cli import main

sys.exit(main())
