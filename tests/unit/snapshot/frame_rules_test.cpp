// FrameRules / FrameClassifier: hidden, library and user frames, and the
// site of a stack, on frame lists copied from the real snapshots in
// ../shared/data/snapshots (Linux, Windows, torch.compile, C++-only).
#include "memtk/snapshot/frame_rules.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>
#include <tuple>
#include <vector>

#include "snapshot/call_site.h"
#include "test_util.h"

using namespace memtk;
using namespace memtk::snapshot;

namespace {

using F = test::FrameSpec;
using test::AddStack;

FrameKind KindOf(const char* file, const char* name, const FrameRules& r = FrameRules()) {
  return r.Classify(file, 1, name);
}

// Constructor-Sun__code_location, device 1's peak (stack 12): relu called
// from the user's models.py, on a DataParallel worker thread.
constexpr const char* kSite = "/home/haoyangsun/anaconda3/envs/gnn/lib/python3.11/site-packages/";
StackId ConstructorSunRelu(Tables& t) {
  static const std::string functional = std::string(kSite) + "torch/nn/functional.py";
  static const std::string module = std::string(kSite) + "torch/nn/modules/module.py";
  static const std::string parallel = std::string(kSite) + "torch/nn/parallel/parallel_apply.py";
  return AddStack(
      t, {{"??", 0, "torch::unwind::unwind()"},
          {"??", 0, "torch::CapturedTraceback::gather(bool, bool, bool)"},
          {"memory_snapshot.cpp", 0, "torch::cuda::(anonymous namespace)::gather_with_cpp()"},
          {"CUDACachingAllocator.cpp", 0,
           "c10::cuda::CUDACachingAllocator::Native::DeviceCachingAllocator::malloc(signed char, unsigned long, "
           "CUstream_st*)"},
          {"", 0, "c10::cuda::CUDACachingAllocator::Native::NativeCachingAllocator::allocate(unsigned long)"},
          {"", 0,
           "c10::StorageImpl::StorageImpl(c10::StorageImpl::use_byte_size_t, c10::SymInt const&, c10::Allocator*, "
           "bool)"},
          {"EmptyTensor.cpp", 0,
           "at::TensorBase at::detail::_empty_generic<long>(c10::ArrayRef<long>, c10::Allocator*, "
           "c10::DispatchKeySet, c10::ScalarType, std::optional<c10::MemoryFormat>)"},
          {"??", 0, "at::detail::empty_cuda(c10::ArrayRef<long>, c10::TensorOptions const&)"},
          {"RegisterCUDA_0.cpp", 0,
           "at::(anonymous namespace)::create_out(c10::ArrayRef<long>, c10::ArrayRef<long>, c10::TensorOptions "
           "const&)"},
          {"??", 0, "at::TensorIteratorBase::build(at::TensorIteratorConfig&)"},
          {"??", 0, "at::_ops::clamp_min::call(at::Tensor const&, c10::Scalar const&)"},
          {"??", 0, "at::native::relu(at::Tensor const&)"},
          {"VariableType_4.cpp", 0,
           "torch::autograd::VariableType::(anonymous namespace)::relu(c10::DispatchKeySet, at::Tensor const&)"},
          {"??", 0, "at::_ops::relu::call(at::Tensor const&)"},
          {"python_torch_functions_2.cpp", 0, "torch::autograd::THPVariable_relu(_object*, _object*, _object*)"},
          {"", 0, "cfunction_call"},
          {"", 0, "_PyObject_MakeTpCall.localalias"},
          {functional.c_str(), 1701, "relu"},
          {"??", 0, "_PyEval_EvalFrameDefault"},
          {"", 0, "method_vectorcall"},
          {"/mnt/data3/haoyangsun/CurProject/src/train/models.py", 181, "update_nodes"},
          {"??", 0, "_PyEval_EvalFrameDefault"},
          {"/mnt/data3/haoyangsun/CurProject/src/train/models.py", 231, "forward"},
          {"", 0, "slot_tp_call"},
          {"??", 0, "PyObject_Call"},
          {module.c_str(), 1784, "_call_impl"},
          {"", 0, "thread_run"},
          {"", 0, "pythread_wrapper"},
          {"/build/glibc-B3wQXB/glibc-2.31/nptl/pthread_create.c", 477, "start_thread"},
          {"??", 0, "clone"},
          {parallel.c_str(), 99, "_worker"},
          {"/home/haoyangsun/anaconda3/envs/gnn/lib/python3.11/threading.py", 982, "run"},
          {"/home/haoyangsun/anaconda3/envs/gnn/lib/python3.11/threading.py", 1045, "_bootstrap_inner"}});
}

}  // namespace

TEST_CASE("frame kinds: PyTorch viewer's filter and the allocator/dispatcher are hidden", "[frame_rules]") {
  // The viewer's own lists.
  CHECK(KindOf("??", "torch::unwind::unwind()") == FrameKind::kHidden);
  CHECK(KindOf("??", "torch::CapturedTraceback::gather(bool, bool, bool)") == FrameKind::kHidden);
  CHECK(KindOf("memory_snapshot.cpp", "torch::cuda::(anonymous namespace)::gather_with_cpp()") == FrameKind::kHidden);
  CHECK(KindOf("??", "_PyEval_EvalFrameDefault") == FrameKind::kHidden);
  CHECK(KindOf("??", "PyObject_Call") == FrameKind::kHidden);
  CHECK(KindOf("??", "__libc_start_main") == FrameKind::kHidden);
  CHECK(KindOf("??", "_start") == FrameKind::kHidden);
  CHECK(KindOf("aten/src/ATen/core/boxing/impl/boxing.h", "c10::foo") == FrameKind::kHidden);
  CHECK(KindOf("Python/ceval.c", "_PyEval_EvalFrame") == FrameKind::kHidden);
  // Unresolved and nameless.
  CHECK(KindOf("??", "??") == FrameKind::kHidden);
  CHECK(KindOf("", "") == FrameKind::kHidden);
  // Caching allocator and dispatcher, with return types before the name.
  CHECK(KindOf("", "c10::cuda::CUDACachingAllocator::Native::NativeCachingAllocator::allocate(unsigned long)") ==
        FrameKind::kHidden);
  CHECK(KindOf("EmptyTensor.cpp",
               "at::TensorBase at::detail::_empty_generic<long>(c10::ArrayRef<long>, c10::Allocator*)") ==
        FrameKind::kHidden);
  CHECK(KindOf("", "at::Tensor c10::Dispatcher::redispatch<at::Tensor, at::Tensor const&>(c10::TypedOperatorHandle)") ==
        FrameKind::kHidden);
  CHECK(KindOf("??", "at::_ops::mm::call(at::Tensor const&, at::Tensor const&)") == FrameKind::kHidden);
  CHECK(KindOf("RegisterCUDA_0.cpp", "at::(anonymous namespace)::wrapper_CUDA_mm(at::Tensor const&)") ==
        FrameKind::kHidden);
  CHECK(KindOf("", "pybind11::cpp_function::dispatcher(_object*, _object*, _object*)") == FrameKind::kHidden);
  // CPython's C functions and the C runtime, symbolised without a file.
  for (const char* name :
       {"cfunction_call", "_PyObject_MakeTpCall.localalias", "method_vectorcall.llvm.12275804309777372242",
        "slot_tp_call", "subtype_dealloc", "Py_BytesMain", "pymain_run_file", "run_mod.llvm.9196888086361497952",
        "thread_run", "pythread_wrapper", "clone", "__clone3", "__xmknodat", "pthread_condattr_setpshared"})
    CHECK(KindOf("??", name) == FrameKind::kHidden);
  CHECK(KindOf("eval_frame.c", "dynamo_custom_eval_frame_shim") == FrameKind::kHidden);
  // An argument type does not make a frame plumbing.
  CHECK(KindOf("??", "at::native::relu(at::Tensor const&, c10::Scalar const&)") == FrameKind::kLibrary);
  // Python code is never hidden by the viewer's function list.
  CHECK(KindOf("/home/me/train.py", "_start_epoch") == FrameKind::kUser);
}

TEST_CASE("frame kinds: library by path, Linux and Windows; user otherwise", "[frame_rules]") {
  // site-packages, dist-packages, torch, generated code.
  CHECK(KindOf("/home/haoyangsun/anaconda3/envs/gnn/lib/python3.11/site-packages/torch/nn/functional.py", "relu") ==
        FrameKind::kLibrary);
  CHECK(KindOf("/usr/lib/python3/dist-packages/numpy/core/numeric.py", "ones") == FrameKind::kLibrary);
  CHECK(KindOf("/oscar/home/jsolt/FourierNN/myenv/lib64/python3.9/site-packages/torch/_compile.py", "inner") ==
        FrameKind::kLibrary);
  CHECK(KindOf("/home/dev/pytorch/torch/nn/modules/linear.py", "forward") == FrameKind::kLibrary);
  CHECK(KindOf("/tmp/torchinductor_c-kaitwang/l4/cl4iffgos7ugqf5f7xvaniiodgzks2swhte7zeap3b42mjosyxo5.py", "call") ==
        FrameKind::kLibrary);
  CHECK(KindOf("<eval_with_key>.5", "forward") == FrameKind::kLibrary);
  CHECK(KindOf("<frozen runpy>", "_run_module_as_main") == FrameKind::kLibrary);
  // The standard library.
  CHECK(KindOf("/home/haoyangsun/anaconda3/envs/gnn/lib/python3.11/threading.py", "run") == FrameKind::kLibrary);
  CHECK(KindOf("/root/miniconda3/envs/py3.10/lib/python3.10/asyncio/base_events.py", "run_forever") ==
        FrameKind::kLibrary);
  // Windows (ZidongLiu__DeComFL): backslashes, drive letters, Lib.
  CHECK(KindOf(R"(C:\research\DeComFL\.venv\lib\site-packages\torch\storage.py)", "clone") == FrameKind::kLibrary);
  CHECK(KindOf(R"(C:\Users\Zidong\AppData\Roaming\uv\python\cpython-3.10.19-windows-x86_64-none\lib\copy.py)",
               "deepcopy") == FrameKind::kLibrary);
  CHECK(KindOf(R"(C:\Users\me\miniconda3\envs\x\Lib\threading.py)", "run") == FrameKind::kLibrary);
  CHECK(KindOf(R"(C:\research\DeComFL\cezo_fl\client.py)", "screenshot") == FrameKind::kUser);
  CHECK(KindOf(R"(D:\work\lib\helpers.py)", "helper") == FrameKind::kUser);  // a project's own lib folder
  // User code: projects, notebooks.
  CHECK(KindOf("/mnt/data3/haoyangsun/CurProject/src/train/models.py", "update_nodes") == FrameKind::kUser);
  CHECK(KindOf("/tmp/ipykernel_114/3105878423.py", "<module>") == FrameKind::kUser);
  CHECK(KindOf("/home/lin/cs336/assignment2-systems/scripts/../cs336_systems/nsys_profile.py", "main") ==
        FrameKind::kUser);
  // C++ frames are library unless --user-code claims them.
  CHECK(KindOf("??", "torch::autograd::Engine::thread_main(std::shared_ptr<torch::autograd::GraphTask> const&)") ==
        FrameKind::kLibrary);
  CHECK(KindOf("my_ext.cpp", "my_ext::fused_kernel(at::Tensor const&)") == FrameKind::kLibrary);
}

TEST_CASE("frame kinds: --user-code and --library override, --user-code first", "[frame_rules]") {
  auto r = FrameRules::Make({.user_code = "my_ext|/vendored/", .library = "models\\.py:1[0-9]{2}:"});
  REQUIRE(r.ok());
  CHECK(KindOf("my_ext.cpp", "my_ext::fused_kernel(at::Tensor const&)", *r) == FrameKind::kUser);
  // --user-code wins over the built-in library rule.
  CHECK(KindOf("/venv/lib/python3.11/site-packages/vendored/x.py", "f", *r) == FrameKind::kUser);
  CHECK(KindOf("/src/vendored/x.py", "f", *r) == FrameKind::kUser);
  // The pattern sees "file:line:name": line 1 here.
  CHECK(r->Classify("/src/models.py", 174, "update_nodes") == FrameKind::kLibrary);
  CHECK(r->Classify("/src/models.py", 74, "update_nodes") == FrameKind::kUser);
  // Hidden stays hidden.
  auto all = FrameRules::Make({.user_code = ".*"});
  REQUIRE(all.ok());
  CHECK(KindOf("??", "_PyEval_EvalFrameDefault", *all) == FrameKind::kHidden);
  CHECK(KindOf("/venv/lib/python3.11/site-packages/torch/nn/functional.py", "relu", *all) == FrameKind::kUser);
  CHECK(r->is_default() == false);
  CHECK(FrameRules().is_default());
}

TEST_CASE("frame rules: a regex that does not compile is a usage error naming the flag", "[frame_rules]") {
  auto bad = FrameRules::Make({.user_code = "models(\\.py"});
  REQUIRE(!bad.ok());
  CHECK(bad.status().code() == StatusCode::kUsage);
  CHECK(bad.status().message().find("--user-code: invalid regular expression 'models(\\.py'") == 0);
  auto bad_lib = FrameRules::Make({.library = "[z-a]"});
  REQUIRE(!bad_lib.ok());
  CHECK(bad_lib.status().message().find("--library:") == 0);
}

TEST_CASE("frame rules: MEMTK_USER_CODE / MEMTK_LIBRARY fill what the flags left empty", "[frame_rules]") {
  ::setenv(kUserCodeEnv, "from-env", 1);
  ::setenv(kLibraryEnv, "lib-env", 1);
  FrameRulesOptions o{.user_code = "from-flag"};
  ApplyFrameRulesEnv(&o);
  CHECK(o.user_code == "from-flag");
  CHECK(o.library == "lib-env");
  ::unsetenv(kUserCodeEnv);
  ::unsetenv(kLibraryEnv);
  FrameRulesOptions none;
  ApplyFrameRulesEnv(&none);
  CHECK(none.user_code.empty());
  CHECK(none.library.empty());
}

TEST_CASE("site modes", "[frame_rules]") {
  CHECK(SiteModeFromName("user") == SiteMode::kUser);
  CHECK(SiteModeFromName("innermost") == SiteMode::kInnermost);
  CHECK(SiteModeFromName("stack") == SiteMode::kStack);
  CHECK(!SiteModeFromName("User"));
  CHECK(SiteModeName(SiteMode::kStack) == "stack");
  CHECK(FrameKindName(FrameKind::kLibrary) == "library");
}

TEST_CASE("site: Constructor-Sun's relu is credited to models.py, which called it", "[frame_rules]") {
  Tables t;
  StackId s = ConstructorSunRelu(t);
  FrameClassifier c;
  c.Reset(&t);
  const Site& site = c.SiteOf(s);
  REQUIRE(site.frame);
  CHECK(site.is_user);
  CHECK(FormatFrame(t, *site.frame) == "/mnt/data3/haoyangsun/CurProject/src/train/models.py:181:update_nodes");
  REQUIRE(site.called);
  CHECK(ShortFrame(t, *site.called) == "torch/nn/functional.py:1701:relu");
  CHECK(
      c.SiteLabel(site) ==
      "/mnt/data3/haoyangsun/CurProject/src/train/models.py:181:update_nodes \u2192 torch/nn/functional.py:1701:relu");
  CHECK(c.SiteFrameLabel(site) == "/mnt/data3/haoyangsun/CurProject/src/train/models.py:181:update_nodes");
  // Cached: the same object on the second call.
  CHECK(&c.SiteOf(s) == &site);
  // innermost: today's rule, the innermost Python frame.
  Site inner = c.SiteOf(t.GetStack(s), SiteMode::kInnermost);
  CHECK(FormatFrame(t, *inner.frame) == std::string(kSite) + "torch/nn/functional.py:1701:relu");
  CHECK(inner.frame == CallSiteFrame(t, s));
  CHECK(!inner.called);
  // The filtered stack: no plumbing.
  std::vector<FrameId> visible;
  c.VisibleFrames(t.GetStack(s), &visible);
  std::vector<std::string> names;
  for (FrameId f : visible) names.push_back(ShortFrame(t, f));
  CHECK(names == std::vector<std::string>{
                     "at::TensorIteratorBase::build", "at::native::relu",
                     "VariableType_4.cpp:torch::autograd::VariableType::(anonymous namespace)::relu",
                     "python_torch_functions_2.cpp:torch::autograd::THPVariable_relu",
                     "torch/nn/functional.py:1701:relu", "models.py:181:update_nodes", "models.py:231:forward",
                     "torch/nn/modules/module.py:1784:_call_impl", "torch/nn/parallel/parallel_apply.py:99:_worker",
                     "threading.py:982:run", "threading.py:1045:_bootstrap_inner"});
  // --all-frames keeps everything.
  FrameClassifier all(FrameRules::Make({.all_frames = true}).value());
  all.Reset(&t);
  all.VisibleFrames(t.GetStack(s), &visible);
  CHECK(visible.size() == t.GetStack(s).size());
}

TEST_CASE("site: what a user frame called", "[frame_rules]") {
  Tables t;
  const std::string env = "/home/haoyangsun/anaconda3/envs/gnn/lib/python3.11/site-packages/torch/nn/";
  const std::string linear = env + "modules/linear.py", module = env + "modules/module.py";
  // Through nn.Module's call wrappers: the innermost Python frame, not the wrapper.
  StackId through = AddStack(t, {{"??", 0, "at::native::linear(at::Tensor const&, at::Tensor const&)"},
                                 {linear.c_str(), 125, "forward"},
                                 {module.c_str(), 1784, "_call_impl"},
                                 {module.c_str(), 1773, "_wrapped_call_impl"},
                                 {"/mnt/data3/haoyangsun/CurProject/src/train/trainers.py", 444, "train"}});
  // An operator called straight from user code: its C++ binding.
  StackId op = AddStack(t, {{"??", 0, "at::_ops::index_Tensor::call(at::Tensor const&)"},
                            {"", 0, "torch::autograd::THPVariable_getitem(_object*, _object*)"},
                            {"??", 0, "_PyEval_EvalFrameDefault"},
                            {"/mnt/data3/haoyangsun/CurProject/src/train/models.py", 174, "update_nodes"}});
  // Only plumbing inside: nothing called.
  StackId bare = AddStack(t, {{"??", 0, "_PyEval_EvalFrameDefault"}, {"/src/train.py", 3, "main"}});
  FrameClassifier c;
  c.Reset(&t);
  CHECK(
      c.SiteLabel(c.SiteOf(through)) ==
      "/mnt/data3/haoyangsun/CurProject/src/train/trainers.py:444:train \u2192 torch/nn/modules/linear.py:125:forward");
  CHECK(c.SiteLabel(c.SiteOf(op)) ==
        "/mnt/data3/haoyangsun/CurProject/src/train/models.py:174:update_nodes \u2192 "
        "torch::autograd::THPVariable_getitem");
  CHECK(!c.SiteOf(bare).called);
  CHECK(c.SiteLabel(c.SiteOf(bare)) == "/src/train.py:3:main");
}

TEST_CASE("site: a --library regex moves the site outward", "[frame_rules]") {
  Tables t;
  StackId s = ConstructorSunRelu(t);
  FrameClassifier c(FrameRules::Make({.library = "models\\.py:181:"}).value());
  c.Reset(&t);
  const Site& site = c.SiteOf(s);
  CHECK(FormatFrame(t, *site.frame) == "/mnt/data3/haoyangsun/CurProject/src/train/models.py:231:forward");
  CHECK(ShortFrame(t, *site.called) == "torch/nn/functional.py:1701:relu");
}

TEST_CASE("site: Windows paths (ZidongLiu__DeComFL stack 22)", "[frame_rules]") {
  Tables t;
  StackId s =
      AddStack(t, {{R"(C:\research\DeComFL\.venv\lib\site-packages\torch\storage.py)", 257, "clone"},
                   {R"(C:\research\DeComFL\.venv\lib\site-packages\torch\storage.py)", 243, "__deepcopy__"},
                   {R"(C:\Users\Zidong\AppData\Roaming\uv\python\cpython-3.10.19-windows-x86_64-none\lib\copy.py)", 153,
                    "deepcopy"},
                   {R"(C:\research\DeComFL\.venv\lib\site-packages\torch\_tensor.py)", 178, "__deepcopy__"},
                   {R"(C:\research\DeComFL\cezo_fl\client.py)", 185, "<dictcomp>"},
                   {R"(C:\research\DeComFL\cezo_fl\client.py)", 185, "screenshot"},
                   {R"(C:\research\DeComFL\decomfl_main.py)", 197, "<module>"}});
  FrameClassifier c;
  c.Reset(&t);
  const Site& site = c.SiteOf(s);
  CHECK(FormatFrame(t, *site.frame) == R"(C:\research\DeComFL\cezo_fl\client.py:185:<dictcomp>)");
  // The innermost Python frame inside it, not the __deepcopy__ it called directly.
  CHECK(ShortFrame(t, *site.called) == R"(torch\storage.py:257:clone)");
  CHECK(ShortFrame(t, *site.frame) == "client.py:185:<dictcomp>");
  // Today's rule stopped in torch.
  CHECK(FormatFrame(t, *c.SiteOf(t.GetStack(s), SiteMode::kInnermost).frame) ==
        R"(C:\research\DeComFL\.venv\lib\site-packages\torch\storage.py:257:clone)");
}

TEST_CASE("site: torch.compile stack (kkaitlyn111 stack 1)", "[frame_rules]") {
  Tables t;
  const std::string env = "/scratch/c-kaitwang/uv-envs/cs336-a2-systems/lib/python3.13/site-packages/";
  const std::string wrappers = env + "torch/_functorch/_aot_autograd/runtime_wrappers.py";
  const std::string eval = env + "torch/_dynamo/eval_frame.py";
  StackId s = AddStack(
      t, {{"??", 0, "torch::unwind::unwind()"},
          {"", 0, "c10::cuda::CUDACachingAllocator::Native::NativeCachingAllocator::allocate(unsigned long)"},
          {"??", 0, "at::detail::empty_strided_cuda(c10::ArrayRef<long>, c10::ArrayRef<long>, c10::ScalarType)"},
          {"guards.cpp", 0,
           "torch::dynamo::(anonymous namespace)::_empty_strided_device(_object*, _object*, c10::DeviceType) [clone "
           ".isra.0]"},
          {"??", 0, "cfunction_call"},
          {"/tmp/torchinductor_c-kaitwang/l4/cl4iffgos7ugqf5f7xvaniiodgzks2swhte7zeap3b42mjosyxo5.py", 1916, "call"},
          {"/home/c-kaitwang/assignment1/cs336_basics/transformer.py", 22, "forward"},
          {"/home/c-kaitwang/assignment1/cs336_basics/transformer.py", 80, "forward"},
          {"??", 0, "_PyEval_EvalFrameDefault"},
          {"eval_frame.c", 0, "dynamo_custom_eval_frame_shim"},
          {wrappers.c_str(), 310, "runtime_wrapper"},
          {eval.c_str(), 745, "_fn"},
          {"/home/c-kaitwang/assignment2/cs336-a2-systems/cs336_systems/benchmark.py", 457, "<module>"}});
  FrameClassifier c;
  c.Reset(&t);
  const Site& site = c.SiteOf(s);
  CHECK(FormatFrame(t, *site.frame) == "/home/c-kaitwang/assignment1/cs336_basics/transformer.py:22:forward");
  CHECK(ShortFrame(t, *site.called) == "cl4iffgos7ugqf5f7xvaniiodgzks2swhte7zeap3b42mjosyxo5.py:1916:call");
  // stack mode: the visible frames, outermost first.
  FrameClassifier st(FrameRules::Make({.site = SiteMode::kStack}).value());
  st.Reset(&t);
  const Site& whole = st.SiteOf(s);
  CHECK(whole.stack == s);
  CHECK(whole.Key() != site.Key());
  CHECK(st.SiteLabel(whole) ==
        "benchmark.py:457:<module> \u2192 torch/_dynamo/eval_frame.py:745:_fn \u2192 "
        "torch/_functorch/_aot_autograd/runtime_wrappers.py:310:runtime_wrapper \u2192 transformer.py:80:forward "
        "\u2192 transformer.py:22:forward \u2192 "
        "cl4iffgos7ugqf5f7xvaniiodgzks2swhte7zeap3b42mjosyxo5.py:1916:call \u2192 "
        "guards.cpp:torch::dynamo::(anonymous namespace)::_empty_strided_device");
}

TEST_CASE("site: C++-only stacks fall back to today's rule", "[frame_rules]") {
  Tables t;
  // Da1sypetals__tomi stack 4: the autograd engine's thread.
  StackId s = AddStack(
      t, {{"??", 0, "torch::unwind::unwind()"},
          {"", 0, "c10::cuda::CUDACachingAllocator::Native::NativeCachingAllocator::allocate(unsigned long)"},
          {"", 0, "at::cuda::getNewWorkspace()"},
          {"??", 0, "at::cuda::getCurrentCUDABlasHandle()"},
          {"Blas.cpp", 0, "at::native::(anonymous namespace)::addmm_out_cuda_impl(at::Tensor&, at::Tensor const&)"},
          {"??", 0, "at::_ops::mm::call(at::Tensor const&, at::Tensor const&)"},
          {"??", 0,
           "torch::autograd::generated::AddmmBackward0::apply(std::vector<at::Tensor, std::allocator<at::Tensor> "
           ">&&)"},
          {"??", 0, "torch::autograd::Engine::thread_main(std::shared_ptr<torch::autograd::GraphTask> const&)"},
          {"??", 0, "pthread_condattr_setpshared"},
          {"??", 0, "__xmknodat"}});
  FrameClassifier c;
  c.Reset(&t);
  const Site& site = c.SiteOf(s);
  CHECK(!site.is_user);
  CHECK(!site.called);
  CHECK(site.frame == CallSiteFrame(t, s));
  CHECK(c.SiteLabel(site) == FormatFrame(t, *site.frame));
  // Only hidden frames: frame 0, as before; stack mode too.
  StackId hidden = AddStack(t, {{"??", 0, "torch::unwind::unwind()"}, {"??", 0, "_start"}});
  CHECK(FormatFrame(t, *c.SiteOf(hidden).frame) == "??:0:torch::unwind::unwind()");
  FrameClassifier st(FrameRules::Make({.site = SiteMode::kStack}).value());
  st.Reset(&t);
  CHECK(st.SiteLabel(st.SiteOf(hidden)) == "??:0:torch::unwind::unwind()");
  // Empty stack: no site.
  StackId empty = AddStack(t, {});
  CHECK(!c.SiteOf(empty).frame);
  CHECK(c.SiteOf(empty).Key() == -1);
  CHECK(c.SiteLabel(c.SiteOf(empty)) == "<no frames>");
}

TEST_CASE("short frames: C++ names without their argument lists", "[frame_rules]") {
  CHECK(CxxShortName("at::native::relu(at::Tensor const&)") == "at::native::relu");
  CHECK(CxxShortName("torch::autograd::Node::operator()(std::vector<at::Tensor, std::allocator<at::Tensor> >&&)") ==
        "torch::autograd::Node::operator()");
  CHECK(CxxShortName("at::(anonymous namespace)::wrapper_CUDA_mm(at::Tensor const&, at::Tensor const&)") ==
        "at::(anonymous namespace)::wrapper_CUDA_mm");
  CHECK(CxxShortName("_object* torch::autograd::TypeError_to_NotImplemented_<&torch::autograd::THPVariable_mul>("
                     "_object*, _object*, _object*)") ==
        "_object* torch::autograd::TypeError_to_NotImplemented_<&torch::autograd::THPVariable_mul>");
  CHECK(CxxShortName("cfunction_call") == "cfunction_call");
  CHECK(CxxShortName("(weird") == "(weird");
}

TEST_CASE("classifier: tables that grow after the first question", "[frame_rules]") {
  Tables t;
  StackId a = AddStack(t, {{"/src/a.py", 1, "f"}});
  FrameClassifier c;
  c.Reset(&t);
  CHECK(c.Kind(FrameId{0}) == FrameKind::kUser);
  CHECK(c.SiteOf(a).is_user);
  StackId b = AddStack(t, {{"/venv/lib/python3.12/site-packages/x/y.py", 2, "g"}, {"/src/b.py", 3, "h"}});
  CHECK(c.Kind(FrameId{1}) == FrameKind::kLibrary);
  CHECK(FormatFrame(t, *c.SiteOf(b).frame) == "/src/b.py:3:h");
  CHECK(&c.rules() != nullptr);
}
