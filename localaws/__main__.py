import sys

from localaws.emulator import main

sys.exit(main())
