import { it } from "vitest";
import { np } from "@wax/tracer";
it("p", () => {
  console.log(String(np.zeros([2000])));
  console.log(String(np.arange(2000*3).reshape([2000,3])));
  console.log(String(np.arange(24).reshape([2,3,4])));
  console.log(String(np.zeros([0])), String(np.zeros([2**40, 0])), String(np.array(3.5)));
  console.log(String(np.arange(3000).reshape([10, 10, 30])));
});
